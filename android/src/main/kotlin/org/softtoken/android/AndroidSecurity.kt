// Android-only: screenshot protection and a sensitive clipboard with auto-clear.
package org.softtoken.android

import android.app.Activity
import android.content.ClipData
import android.content.ClipDescription
import android.content.ClipboardManager
import android.content.Context
import android.os.Build
import android.os.PersistableBundle
import android.view.WindowManager

/** Keeps codes out of screenshots, screen recordings and the recent-apps thumbnail. */
fun Activity.protectScreen() {
    window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
}

/** The system clipboard, marking codes as sensitive (hidden from the clipboard preview). */
class AndroidClipboard(context: Context) : SecretClipboard {
    private val manager = context.getSystemService(Context.CLIPBOARD_SERVICE) as ClipboardManager

    override fun set(text: String) {
        val clip = ClipData.newPlainText("code", text)
        clip.description.extras = PersistableBundle().apply { putBoolean(ClipDescription.EXTRA_IS_SENSITIVE, true) }
        manager.setPrimaryClip(clip)
    }

    override fun current(): String? = manager.primaryClip?.takeIf { it.itemCount > 0 }?.getItemAt(0)?.text?.toString()

    override fun clear() {
        // clearPrimaryClip exists from API 28 (minSdk is 26); before, an empty clip replaces the code.
        if (Build.VERSION.SDK_INT >= 28) manager.clearPrimaryClip() else manager.setPrimaryClip(ClipData.newPlainText("", ""))
    }
}
