@file:Suppress("unused", "UNUSED_PARAMETER")

package android.app

abstract class Activity {
    abstract val window: android.view.Window
}
