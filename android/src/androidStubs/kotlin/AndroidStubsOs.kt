@file:Suppress("unused", "UNUSED_PARAMETER")

package android.os

class PersistableBundle {
    fun putBoolean(key: String, value: Boolean) {}
}

object Build {
    object VERSION {
        /** The device's API level (a variable on a device; the module's minSdk here). */
        val SDK_INT: Int = 26
    }
}
