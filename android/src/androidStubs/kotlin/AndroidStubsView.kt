@file:Suppress("unused", "UNUSED_PARAMETER")

package android.view

abstract class Window {
    abstract fun setFlags(flags: Int, mask: Int)
}

class WindowManager {
    class LayoutParams {
        companion object {
            const val FLAG_SECURE = 0x2000
        }
    }
}
