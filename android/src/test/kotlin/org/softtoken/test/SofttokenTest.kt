package org.softtoken.test

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.delay
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.softtoken.android.AuthenticationReason
import org.softtoken.android.CipherAuthenticator
import org.softtoken.android.SecretClipboard
import org.softtoken.Authenticator
import org.softtoken.android.codes
import org.softtoken.android.copyWithAutoClear
import org.softtoken.ObservedCode
import org.softtoken.KeyStoreException
import org.softtoken.SofttokenException
import org.softtoken.VaultSettings
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

const val SPEC_URI = "igmobileotp://?action=secactivate&enc=VRUq6IoLWQRCMRITZEHtHUSWJiPwgu%2FN1BFyUHE5kxuHIEYoE3zmNTrAHeeUM5S3gzCnTy%2F%2Bdnbu%2FsjjQW%2BNEISx8C4ra8rLpxOl8E8w4KXHgjeBRgdvSzl%2BbzX5RYRrQlWgK8hsBT4pQYE0eFgW2TmRbzXu1Mu7XjKDcwsJLew32jQC2qyPLP8hljnv2rHwwsMfhQwgJUJYfctwLWWEDUFukEckaZ4O&v=1&mac=mhVL8BWKaishMa5%2B"
val FAST = VaultSettings(19u, 2u, 1u, 10u)

fun luhnValid(digits: String): Boolean {
    val d = digits.filter { it.isDigit() }.map { it - '0' }
    val sum = d.dropLast(1).reversed().mapIndexed { i, x -> if (i % 2 == 0) (x * 2).let { if (it > 9) it - 9 else it } else x }.sum()
    return (10 - sum % 10) % 10 == d.last()
}

class SofttokenTest {
    @TempDir lateinit var dir: Path

    private fun vault(store: JceDeviceKeyStore = JceDeviceKeyStore(), name: String = "v.stv") = Authenticator(dir.resolve(name).toString(), store)

    @Test fun activationFromTheSpecQrCode(): Unit = runBlocking {
        vault().use { s ->
            s.create("1234", FAST)
            val p = s.beginQrActivation(SPEC_URI, "54998317")
            assertEquals("48244-13456", p.serial())
            assertEquals("myid.umc.edu", p.provider())
            assertEquals("""{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}""", p.policy())
            assertEquals(6, p.digits().toInt())
            // Entrust's QR code says neither the code length nor where sign-ins come from.
            assertFalse(p.digitsKnown())
            assertNull(p.transactionUrl())
            val id = s.commitActivation(p, "umc")
            assertEquals("entrust", id.kind)
            assertEquals(listOf("umc"), s.identities().map { it.name })
            // The user reads 8 digits in the portal: changed without a new registration code.
            s.setDigits(id.id, 8u)
            assertEquals(8, s.identities().single().digits.toInt())
            assertEquals(8, s.codeAt(id.id, 1570434609u).code.length)
            s.setTransactionUrl(id.id, "https://idp.example.com")
            assertTrue(s.identities().single().online)
            assertFailsWith<SofttokenException.InvalidCode> { s.setTransactionUrl(id.id, "http://idp.example.com") }
            s.setTransactionUrl(id.id)
            assertFalse(s.identities().single().online)
        }
    }

    @Test fun registrationCodeHasItsShapeAndLuhnDigit(): Unit = runBlocking {
        vault().use { s ->
            s.create(null, FAST)
            repeat(20) {
                val rc = s.beginManualActivation("48244-13456", "1745-7712-6942-8698").registrationCode()
                assertTrue(Regex("""\d{5}-\d{5}""").matches(rc), rc)
                assertTrue(luhnValid(rc), rc)
            }
        }
    }

    @Test fun codesEqualTheRustVectorsAtFixedTimes(): Unit = runBlocking {
        vault().use { s ->
            s.create(null, FAST)
            val six = s.importExisting("48244-13456", "1745-7712-6942-8698", registrationCode = "12211-49352", name = "six")
            assertEquals("043700", s.codeAt(six.id, 1570434609u).code)
            assertEquals("814835", s.codeAt(six.id, 1570351831u).code)
            assertEquals("158382", s.codeAt(six.id, 59u).code)
            assertEquals(30u, s.codeAt(six.id, 1570434600u).remainingS)
            // The same seed again is refused as a duplicate; with 8 digits it is a new identity once the 6-digit one is gone.
            // A duplicate is an input the user can correct (the token is there already), not "unsupported".
            assertFailsWith<SofttokenException.InvalidCode> { s.importExisting("48244-13456", "1745-7712-6942-8698", registrationCode = "12211-49352", digits = 8u) }
            s.remove(six.id)
            val eight = s.importExisting("48244-13456", "1745-7712-6942-8698", registrationCode = "12211-49352", digits = 8u, name = "eight")
            assertEquals("74043700", s.codeAt(eight.id, 1570434609u).code)
            assertEquals("15202852", s.codeAt(eight.id, 2000000000u).code)
        }
    }

    @Test fun movingATokenFromTwoCodes(): Unit = runBlocking {
        vault().use { s ->
            s.create(null, FAST)
            val id = s.importExisting("48244-13456", "1745-7712-6942-8698", codes = listOf(ObservedCode("043700", 1570434609u), ObservedCode("814835", 1570351831u)))
            assertEquals("202852", s.codeAt(id.id, 2000000000u).code)
        }
    }

    @Test fun createLockUnlock(): Unit = runBlocking {
        val store = JceDeviceKeyStore()
        vault(store).use { s ->
            assertFalse(s.exists())
            s.create("2580", FAST)
            s.addOtpauth("otpauth://totp/ACME:me?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME")
            assertTrue(s.isUnlocked())
            s.lock()
            assertFalse(s.isUnlocked())
            assertFailsWith<SofttokenException.Locked> { s.identities() }
            assertTrue(s.hasPin())
            s.unlock("2580")
            assertEquals("287082", s.codeAt(s.identities()[0].id, 59u).code)
        }
        vault(store).use { again ->
            again.unlock("2580")
            assertEquals(1, again.identities().size)
        }
    }

    @Test fun wrongPinIsTypedWithAttemptsLeft(): Unit = runBlocking {
        vault().use { s ->
            s.create("2580", FAST)
            s.lock()
            val e = assertFailsWith<SofttokenException.WrongPin> { s.unlock("0000") }
            assertEquals(9u, e.attemptsLeft)
            val e2 = assertFailsWith<SofttokenException.WrongPin> { s.unlock("0001") }
            assertEquals(8u, e2.attemptsLeft)
        }
    }

    @Test fun lockoutGivesRetryAfter(): Unit = runBlocking {
        vault().use { s ->
            s.create("2580", FAST)
            s.lock()
            repeat(5) { assertFailsWith<SofttokenException.WrongPin> { s.unlock("0000") } }
            val e = assertFailsWith<SofttokenException.Locked> { s.unlock("2580") }
            assertTrue(e.retryAfterS in 1uL..30uL, "retry after ${e.retryAfterS}")
        }
    }

    @Test fun aFailingKeyStoreIsAPlatformErrorNotACrash(): Unit = runBlocking {
        val store = JceDeviceKeyStore()
        vault(store).use { s ->
            store.failure = "keystore daemon died"
            val e = assertFailsWith<SofttokenException.Platform> { s.create("2580", FAST) }
            assertTrue(e.detail.contains("keystore daemon died"), e.detail)
            store.failure = null
            store.crash = true
            val crash = assertFailsWith<SofttokenException.Platform> { s.create("2580", FAST) }
            assertTrue(crash.detail.contains("simulated crash"), crash.detail)
            store.crash = false
            s.create("2580", FAST)
            assertTrue(s.isUnlocked())
        }
    }

    @Test fun aMissingDeviceKeyIsKeyUnavailable(): Unit = runBlocking {
        val store = JceDeviceKeyStore()
        vault(store).use { s -> s.create(null, FAST) }
        store.deleteKey()
        vault(store).use { s -> assertFailsWith<SofttokenException.KeyUnavailable> { s.unlock(null) } }
    }

    @Test fun badInputsAreTyped(): Unit = runBlocking {
        vault().use { s ->
            s.create(null, FAST)
            val garbage = assertFailsWith<SofttokenException.InvalidCode> { s.beginQrActivation("not a uri", "12345678") }
            assertEquals("uri", garbage.field)
            assertFailsWith<SofttokenException.WrongPassword> { s.beginQrActivation(SPEC_URI, "54998318") }
            val check = assertFailsWith<SofttokenException.InvalidCode> { s.beginManualActivation("48244-13456", "1745-7712-6942-8699") }
            assertEquals("activation code", check.field)
            assertEquals("check digit does not match", check.reason)
            assertFailsWith<SofttokenException.InvalidCode> { s.addOtpauth("otpauth://totp/x?secret=1") }
        }
    }

    @Test fun cancelledActivationIsNotStored(): Unit = runBlocking {
        vault().use { s ->
            s.create(null, FAST)
            val p = s.beginManualActivation("48244-13456", "1745-7712-6942-8698")
            p.cancel()
            assertFailsWith<SofttokenException.Unsupported> { s.commitActivation(p) }
            assertTrue(s.identities().isEmpty())
            p.close()
        }
    }

    @Test fun objectsCloseCleanly(): Unit = runBlocking {
        val s = vault()
        s.create(null, FAST)
        s.close()
        assertFailsWith<IllegalStateException> { s.identities() }
        s.close() // closing twice is harmless
    }

    @Test fun asyncCallsWorkFromCoroutines(): Unit = runBlocking {
        vault().use { s ->
            withContext(Dispatchers.Default) { s.create("2580", FAST) }
            val id = s.addOtpauth("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=1").identity.id
            s.lock()
            // Several coroutines unlocking at once: all succeed, none blocks the others forever.
            (1..4).map { async(Dispatchers.Default) { s.unlock("2580") } }.awaitAll()
            // The ticker emits at period edges (1 s here): three codes in about two seconds.
            val started = System.nanoTime()
            val ticks = s.codes(id).take(3).toList()
            assertEquals(3, ticks.size)
            assertTrue(ticks.all { it.code.length == 6 && it.remainingS == 1u })
            assertTrue(System.nanoTime() - started in 1_000_000_000L..4_000_000_000L)
        }
    }

    @Test fun pinConfirmedBackupMovesToAnotherVault(): Unit = runBlocking {
        val bytes = vault(name = "a.stv").use { a ->
            a.create("2580", FAST)
            a.addOtpauth("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
            assertFailsWith<SofttokenException.WrongPin> { a.exportBackup("1111", "backup password") }
            a.exportBackup("2580", "backup password")
        }
        vault(name = "b.stv").use { b ->
            b.create(null, FAST)
            assertFailsWith<SofttokenException.WrongPassword> { b.importFile(bytes, "not the password") }
            val r = b.importFile(bytes, "backup password")
            assertEquals(1, r.imported.size)
            assertTrue(r.skipped.isEmpty())
        }
    }

    @Test fun automaticBackupsFollowEveryChangeAndNeedThePin(): Unit = runBlocking {
        val out = Files.createDirectory(dir.resolve("backups"))
        vault().use { s ->
            s.create("2580", FAST)
            assertFailsWith<SofttokenException.WrongPin> { s.setAutoBackup("1111", out.toString(), 2u, "backup password") }
            assertNull(s.autoBackup())
            assertEquals(2u, s.setAutoBackup("2580", out.toString(), 2u, "backup password").keep)
            s.addOtpauth("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
            s.addOtpauth("otpauth://totp/b?secret=GEZDGNBVGY3TQOJQ")
            val files = Files.list(out).use { it.toList() }.sorted()
            assertEquals(2, files.size, "the newest two are kept")
            assertNull(s.autoBackup()!!.lastError)
            val restored = vault(name = "c.stv").use { c ->
                c.create(null, FAST)
                c.importFile(Files.readAllBytes(files.last()), "backup password")
            }
            assertEquals(2, restored.imported.size)
            s.disableAutoBackup()
            assertNull(s.autoBackup())
        }
    }

    @Test fun encryptedAegisAnd2fasExportsImportWithTheirPassword(): Unit = runBlocking {
        val aegis = Files.readAllBytes(Path.of("fixtures/imports/aegis-encrypted.json"))
        val twofas = Files.readAllBytes(Path.of("fixtures/imports/2fas-encrypted.2fas"))
        vault().use { s ->
            s.create(null, FAST)
            // Without its password an encrypted export says so; with a wrong one the error is typed.
            val needed = assertFailsWith<SofttokenException.InvalidCode> { s.previewImport(aegis, null) }
            assertEquals("password", needed.field)
            assertFailsWith<SofttokenException.WrongPassword> { s.importFile(aegis, "not the password") }
            assertFailsWith<SofttokenException.WrongPassword> { s.previewImport(twofas, "not the password") }
            assertTrue(s.identities().isEmpty(), "a wrong password stores nothing")
            val preview = s.previewImport(aegis, "correct horse battery")
            assertEquals("aegis", preview.format)
            assertEquals(listOf("totp", "totp", "totp", "totp", "hotp", "hotp", "steam"), preview.tokens.map { it.kind })
            assertTrue(s.identities().isEmpty(), "a preview stores nothing")
            val r = s.importFile(aegis, "correct horse battery")
            assertEquals(7, r.imported.size)
            assertEquals("GitHub: alice@example.com", r.notices.single().name)
            // The same tokens from 2FAS are duplicates, each reported.
            val again = s.importFile(twofas, "correct horse battery")
            assertEquals(0, again.imported.size)
            assertEquals(7, again.skipped.size)
            val steam = s.identities().single { it.kind == "steam" }
            assertEquals(5, s.code(steam.id).code.length)
        }
    }

    @Test fun deepLinksArePreviewedThenStored(): Unit = runBlocking {
        val activation = org.softtoken.handleLink(SPEC_URI)
        assertTrue(activation is org.softtoken.LinkPreview.Activation)
        val link = "otpauth://totp/Shop:me?secret=JBSWY3DPEHPK3PXP&issuer=Shop"
        val token = org.softtoken.handleLink(link) as org.softtoken.LinkPreview.Token
        assertEquals("Shop", token.issuer)
        assertEquals("me", token.account)
        assertFailsWith<SofttokenException.InvalidCode> { org.softtoken.handleLink("https://example.com") }
        vault().use { s ->
            s.create(null, FAST)
            assertTrue(s.identities().isEmpty(), "previewing stores nothing")
            assertEquals(listOf("Shop: me"), s.importLink(link).imported)
        }
    }

    @Test fun pinChangeBiometricsAndExportNeedTheCurrentPin(): Unit = runBlocking {
        // The attack: with an unlocked phone only, set a new PIN and "confirm" the export with it.
        vault().use { s ->
            s.create("2580", FAST)
            s.addOtpauth("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
            assertFailsWith<SofttokenException.WrongPin> { s.changePin("0000", "1111") }
            assertFailsWith<SofttokenException.Locked> { s.changePin(null, null) }
            assertFailsWith<SofttokenException.WrongPin> { s.setBiometric("0000", true) }
            assertFalse(s.hasBiometric())
            assertFailsWith<SofttokenException.WrongPin> { s.exportBackup("1111", "backup password") }
            assertFalse(s.changePin("2580", "1111"))
            s.lock()
            assertFailsWith<SofttokenException.WrongPin> { s.unlock("2580") }
            s.unlock("1111")
        }
    }

    @Test fun aDismissedBiometricPromptIsCancelledNotADamagedVault(): Unit = runBlocking {
        val store = JceDeviceKeyStore()
        vault(store).use { s ->
            s.create("2580", FAST)
            s.setBiometric("2580", true)
            assertTrue(s.hasBiometric())
            s.lock()
            store.cancelBiometric = true
            assertFailsWith<SofttokenException.Cancelled> { s.unlockBiometric() }
            store.cancelBiometric = false
            s.unlockBiometric()
            assertTrue(s.isUnlocked())
        }
    }

    /** A BiometricPrompt stand-in: records each prompt and the thread it came on; answers as told. */
    class Prompt : CipherAuthenticator {
        val reasons = java.util.Collections.synchronizedList(mutableListOf<AuthenticationReason>())
        val threads = java.util.Collections.synchronizedList(mutableListOf<Thread>())
        @Volatile var dismiss = false
        override fun authenticate(cipher: javax.crypto.Cipher, reason: AuthenticationReason): javax.crypto.Cipher {
            reasons += reason
            threads += Thread.currentThread()
            Thread.sleep(50) // the user looks at the prompt; the caller's thread is not blocked meanwhile
            if (dismiss) throw KeyStoreException.Cancelled()
            return cipher
        }
    }

    @Test fun biometricUnlockAsksThePromptForEveryUseAndADismissalUnlocksNothing(): Unit = runBlocking {
        val prompt = Prompt()
        vault(JceDeviceKeyStore(prompt)).use { s ->
            s.create("2580", FAST)
            prompt.dismiss = true
            assertFailsWith<SofttokenException.Cancelled> { s.setBiometric("2580", true) }
            assertFalse(s.hasBiometric(), "a dismissed prompt enables nothing")
            prompt.dismiss = false
            s.setBiometric("2580", true)
            assertTrue(s.hasBiometric())
            s.lock()
            prompt.dismiss = true
            assertFailsWith<SofttokenException.Cancelled> { s.unlockBiometric() }
            assertFalse(s.isUnlocked())
            prompt.dismiss = false
            s.unlockBiometric()
            assertTrue(s.isUnlocked())
            assertEquals(
                listOf(AuthenticationReason.ENABLE_BIOMETRIC_UNLOCK, AuthenticationReason.ENABLE_BIOMETRIC_UNLOCK, AuthenticationReason.UNLOCK, AuthenticationReason.UNLOCK),
                prompt.reasons.toList(),
            )
            assertTrue(prompt.threads.none { it == Thread.currentThread() }, "the prompt blocks a background thread, never the caller's")
            // A dismissal is no wrong PIN: all attempts are still there.
            s.lock()
            assertFailsWith<SofttokenException.WrongPin> { s.unlock("0000") }.also { assertEquals(9u, it.attemptsLeft) }
        }
    }

    @Test fun aBiometricLockoutIsItsOwnOutcomeAndCostsNoPinAttempt(): Unit = runBlocking {
        // Before: BiometricPrompt's ERROR_LOCKOUT came back as a generic platform failure.
        val prompt = Prompt()
        val lockedOut = CipherAuthenticator { cipher, reason -> prompt.authenticate(cipher, reason).also { if (reason == AuthenticationReason.UNLOCK) throw KeyStoreException.LockedOut("Too many attempts. Try again later.") } }
        vault(JceDeviceKeyStore(lockedOut)).use { s ->
            s.create("2580", FAST)
            s.setBiometric("2580", true)
            s.lock()
            val e = assertFailsWith<SofttokenException.BiometricLockedOut> { s.unlockBiometric() }
            assertTrue(e.detail.contains("use the PIN"), e.detail)
            assertFalse(s.isUnlocked())
            assertFailsWith<SofttokenException.WrongPin> { s.unlock("0000") }.also { assertEquals(9u, it.attemptsLeft) }
            s.unlock("2580")
            assertTrue(s.isUnlocked())
        }
    }

    @Test fun aCancelledUnlockLeavesTheVaultLocked(): Unit = runBlocking {
        // The trap: the unlock finished on its own thread after the caller gave up, and put the
        // vault in use anyway. Argon2 with 128 MiB takes long enough to cancel in the middle.
        vault().use { s ->
            s.create("2580", VaultSettings(128u, 3u, 1u, 10u))
            s.lock()
            val job = launch(Dispatchers.Default) { s.unlock("2580") }
            delay(30)
            job.cancelAndJoin()
            delay(2_000) // the KDF ends meanwhile; its result is dropped
            assertFalse(s.isUnlocked(), "a cancelled unlock unlocks nothing")
            s.unlock("2580")
            assertTrue(s.isUnlocked())
        }
    }

    @Test fun theCodeStreamEndsWhenTheVaultLocksAndNeverAdvancesHotp(): Unit = runBlocking {
        vault().use { s ->
            s.create(null, FAST)
            val totp = s.addOtpauth("otpauth://totp/t?secret=JBSWY3DPEHPK3PXP").identity.id
            val hotp = s.addOtpauth("otpauth://hotp/h?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0").identity.id
            assertFailsWith<SofttokenException.Unsupported> { s.code(hotp) }
            val job = async(Dispatchers.Default) { s.codes(totp).toList() }
            delay(100)
            s.lock()
            val seen = withContext(Dispatchers.Default) { kotlinx.coroutines.withTimeout(5_000) { job.await() } }
            assertTrue(seen.isNotEmpty())
            s.unlock(null)
            assertEquals("755224", s.nextHotp(hotp).code, "the first HOTP code: nothing advanced it before")
        }
    }

    @Test fun clipboardIsClearedOnlyIfItStillHoldsTheCode(): Unit = runBlocking {
        class Board : SecretClipboard {
            var text: String? = null
            override fun set(text: String) { this.text = text }
            override fun current() = text
            override fun clear() { text = null }
        }
        val b = Board()
        copyWithAutoClear(b, "123456", clearAfterMillis = 5)
        assertNull(b.text)
        val c = Board()
        val job = async { copyWithAutoClear(c, "654321", clearAfterMillis = 200) }
        delay(50)
        assertEquals("654321", c.text)
        c.set("something the user copied")
        job.await()
        assertEquals("something the user copied", c.text)
    }
}
