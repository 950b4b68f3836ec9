@file:Suppress("unused", "UNUSED_PARAMETER")

package android.os

class PersistableBundle {
    fun putBoolean(key: String, value: Boolean) {}
}
