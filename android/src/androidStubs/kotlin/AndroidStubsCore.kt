// Stubs of androidx.core (see AndroidStubs.kt).
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.core.content

object ContextCompat {
    fun getMainExecutor(context: android.content.Context): java.util.concurrent.Executor = java.util.concurrent.Executor { it.run() }
}
