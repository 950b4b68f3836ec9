@file:Suppress("unused", "UNUSED_PARAMETER")

package android.content

interface SharedPreferences {
    fun getString(key: String, defValue: String?): String?
    fun edit(): Editor
    interface Editor {
        fun putString(key: String, value: String?): Editor
        fun commit(): Boolean
    }
}

abstract class Context {
    abstract fun getSystemService(name: String): Any?
    abstract fun getSharedPreferences(name: String, mode: Int): SharedPreferences
    abstract val noBackupFilesDir: java.io.File
    companion object {
        const val CLIPBOARD_SERVICE = "clipboard"
    }
}

class ClipDescription {
    var extras: android.os.PersistableBundle? = null
    companion object {
        const val EXTRA_IS_SENSITIVE = "android.content.extra.IS_SENSITIVE"
    }
}

class ClipData private constructor(val description: ClipDescription, private val text: CharSequence) {
    class Item(val text: CharSequence?)
    val itemCount: Int get() = 1
    fun getItemAt(index: Int): Item = Item(text)
    companion object {
        fun newPlainText(label: CharSequence, text: CharSequence): ClipData = ClipData(ClipDescription(), text)
    }
}

abstract class ClipboardManager {
    abstract val primaryClip: ClipData?
    abstract fun setPrimaryClip(clip: ClipData)
    @android.Since(28) abstract fun clearPrimaryClip()
}
