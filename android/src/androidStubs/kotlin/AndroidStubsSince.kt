// The API level each stubbed class or member appeared in, where it is above the module's minSdk
// (26). tests/kotlin/api_guards.py fails when android/src/main uses one outside a
// `Build.VERSION.SDK_INT >= N` guard.
package android

@Target(AnnotationTarget.CLASS, AnnotationTarget.FUNCTION, AnnotationTarget.PROPERTY)
@Retention(AnnotationRetention.SOURCE)
annotation class Since(val api: Int)
