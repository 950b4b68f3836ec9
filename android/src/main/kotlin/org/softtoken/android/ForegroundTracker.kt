// Portable part of the Android shell: compiled and tested on the JVM (tests/kotlin/run.sh).
package org.softtoken.android

import java.lang.ref.WeakReference

/**
 * Which screen is in the foreground now, from lifecycle events: the one most recently resumed and
 * not paused since. Held weakly, so a screen that went away (a rotation, finish) is never kept
 * alive. [ResumedActivities] feeds it from `Application.ActivityLifecycleCallbacks`.
 */
class ForegroundTracker<T : Any> {
    @Volatile private var resumed: WeakReference<T>? = null

    /** A screen came to the foreground. */
    fun resumed(screen: T) {
        resumed = WeakReference(screen)
    }

    /** A screen left the foreground (paused, stopped or destroyed). */
    fun left(screen: T) {
        synchronized(this) {
            if (resumed?.get() === screen) resumed = null
        }
    }

    /** The screen in the foreground, or null when none is (the app is in the background). */
    fun current(): T? = resumed?.get()
}
