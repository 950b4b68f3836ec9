// Stubs of androidx.fragment and androidx.core (see AndroidStubs.kt).
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.fragment.app

abstract class FragmentActivity : android.content.Context()
