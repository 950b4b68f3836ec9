// Android-only (compiled in an Android build; compile-checked here against the generated stubs).
package org.softtoken.android

import android.app.Activity
import android.app.Application
import android.os.Bundle
import androidx.fragment.app.FragmentActivity

/**
 * The app's activity in the foreground, for prompts that must appear over it (biometrics). Install
 * once in `Application.onCreate`: `val activities = ResumedActivities.install(this)`. Only
 * FragmentActivity subclasses (what BiometricPrompt needs) are tracked; activities are held weakly.
 */
class ResumedActivities private constructor() : Application.ActivityLifecycleCallbacks {
    private val tracker = ForegroundTracker<FragmentActivity>()

    /** The resumed FragmentActivity that can still show a dialog, or null. */
    fun current(): FragmentActivity? = tracker.current()?.takeIf { !it.isFinishing && !it.isDestroyed }

    override fun onActivityResumed(activity: Activity) {
        if (activity is FragmentActivity) tracker.resumed(activity)
    }

    override fun onActivityPaused(activity: Activity) {
        if (activity is FragmentActivity) tracker.left(activity)
    }

    override fun onActivityDestroyed(activity: Activity) {
        if (activity is FragmentActivity) tracker.left(activity)
    }

    override fun onActivityCreated(activity: Activity, savedInstanceState: Bundle?) {}
    override fun onActivityStarted(activity: Activity) {}
    override fun onActivityStopped(activity: Activity) {}
    override fun onActivitySaveInstanceState(activity: Activity, outState: Bundle) {}

    companion object {
        /** Registers a tracker with [application]'s lifecycle callbacks. */
        fun install(application: Application): ResumedActivities =
            ResumedActivities().also { application.registerActivityLifecycleCallbacks(it) }
    }
}
