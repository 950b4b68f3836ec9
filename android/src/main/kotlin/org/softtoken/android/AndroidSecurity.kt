// Android-only: screenshot protection and a sensitive clipboard that is cleared by WorkManager.
package org.softtoken.android

import android.app.Activity
import android.content.ClipData
import android.content.ClipDescription
import android.content.ClipboardManager
import android.content.Context
import android.os.Build
import android.os.PersistableBundle
import android.view.WindowManager
import androidx.work.ExistingWorkPolicy
import androidx.work.OneTimeWorkRequest
import androidx.work.WorkManager
import androidx.work.Worker
import androidx.work.WorkerParameters
import java.util.concurrent.TimeUnit

/** Keeps codes out of screenshots, screen recordings and the recent-apps thumbnail. */
fun Activity.protectScreen() {
    window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
}

/** The system clipboard, marking codes as sensitive (hidden from the clipboard preview, Android 13+). */
class AndroidClipboard(context: Context) : SecretClipboard {
    private val appContext = context.applicationContext
    private val manager = appContext.getSystemService(Context.CLIPBOARD_SERVICE) as ClipboardManager

    override fun set(text: String) {
        val clip = ClipData.newPlainText("code", text)
        // EXTRA_IS_SENSITIVE is a constant (API 33's); earlier releases ignore the extra.
        clip.description.setExtras(PersistableBundle().apply { putBoolean(ClipDescription.EXTRA_IS_SENSITIVE, true) })
        manager.setPrimaryClip(clip)
    }

    /** What the clipboard holds; from Android 10 null unless this app has the focus. */
    override fun current(): String? = manager.primaryClip?.takeIf { it.itemCount > 0 }?.getItemAt(0)?.text?.toString()

    override fun clear() = clearClipboard(manager)

    /**
     * Copies [code] and has WorkManager clear the clipboard after [clearAfterSeconds], even when the
     * app is in the background or gone by then (a coroutine would die with the activity, and from
     * Android 10 an app without focus cannot read the clipboard to compare). Copying again restarts
     * the delay. What the user copies elsewhere within the delay is cleared too — the same trade
     * other authenticators make.
     */
    fun copyCode(code: String, clearAfterSeconds: Long = 30) {
        set(code)
        val clear = OneTimeWorkRequest.Builder(ClipboardClearWorker::class.java)
            .setInitialDelay(clearAfterSeconds, TimeUnit.SECONDS)
            .build()
        WorkManager.getInstance(appContext).enqueueUniqueWork(CLEAR_WORK, ExistingWorkPolicy.REPLACE, clear)
    }

    private companion object {
        const val CLEAR_WORK = "org.softtoken.clipboard-clear"
    }
}

/** Empties the clipboard: `clearPrimaryClip` from API 28, an empty clip before. */
internal fun clearClipboard(manager: ClipboardManager) {
    if (Build.VERSION.SDK_INT >= 28) manager.clearPrimaryClip() else manager.setPrimaryClip(ClipData.newPlainText("", ""))
}

/** The job [AndroidClipboard.copyCode] schedules. */
class ClipboardClearWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    override fun doWork(): Result {
        clearClipboard(applicationContext.getSystemService(Context.CLIPBOARD_SERVICE) as ClipboardManager)
        return Result.success()
    }
}
