// The provider's portal in a real headless Chromium, with the `softtoken` CLI as the phone: sign in,
// Add (a choice of kinds) → Activate Token (post, redirect, get: a reload makes nothing new), the
// QR code read from the page's screenshot by softtoken's own scanner,
// Complete, a code verified on the test sign-in page, a number-matching push answered with
// `softtoken respond` and seen approved in the page and in the log; then the refusals (wrong
// password, bad registration code, forms without their CSRF token or from another site) and an
// administrator's assignment and settings, a password change, an administrator's user search,
// token disabling and user deletion (each confirmed), and every page at 1280 and 390 px: a
// screenshot, axe-core's serious and critical findings, fitting the screen. Prints `browser: N passed, M failed` (`browser-postgres:`
// with SOFTTOKEN_BROWSER_DATABASE naming a PostgreSQL database for the provider's state).
// Usage: node portal.mjs TARGET_DIR   (TARGET_DIR holds the softtoken and softtoken-provider binaries)
import { chromium } from "playwright-core";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const bin = process.argv[2];
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const work = mkdtempSync(join(tmpdir(), "softtoken-browser-"));
// SOFTTOKEN_BROWSER_DATABASE=postgres://…: the same checks with the state on PostgreSQL.
const database = process.env.SOFTTOKEN_BROWSER_DATABASE;
const stateArgs = database ? ["--database", database, "--kek-file", join(work, "provider.kek")] : ["--state", join(work, "provider.db")];
const label = database ? "browser-postgres" : "browser";
const outbox = join(work, "outbox");
const ADMIN = { name: "alice", password: "correct horse battery" };
const USER = { name: "bob", password: "bobs own long password" };
const PIN = "2468";

// Screenshots of every page at both widths go here (BROWSER_SCREENSHOTS=DIR keeps them).
const shots = process.env.BROWSER_SCREENSHOTS || join(work, "screenshots");
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
const WIDTHS = [1280, 390];
const violations = [];
const reviewed = [];

/**
 * Looks at the page as people do, at a desktop and a phone width: a screenshot of each, axe-core's
 * serious and critical findings, and at 390 px a page that fits (no sideways scrolling), a header
 * in at most two lines and controls at least 44 px tall. Findings are collected for one check.
 */
async function review(page, name) {
  const before = page.viewportSize();
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
    // CDP evaluation is not bound by the page's CSP (which allows only the portal's script).
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
    for (const v of result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
      violations.push(`${name}@${width}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    }
    if (width < 600) {
      const layout = await page.evaluate(() => {
        const small = [...document.querySelectorAll("main button, main .button, main input:not([type=hidden]):not([type=checkbox]), main select, header nav a, header nav button")]
          .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
          .map((e) => e.id || e.className || e.tagName);
        const navLink = document.querySelector("header nav a");
        return {
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          header: document.querySelector("header").getBoundingClientRect().height,
          line: navLink ? navLink.getBoundingClientRect().height : 44,
          small,
        };
      });
      if (layout.overflow > 0) violations.push(`${name}@${width}: the page is ${layout.overflow} px wider than the screen`);
      if (layout.header > 2.6 * layout.line) violations.push(`${name}@${width}: the header takes ${layout.header} px (more than two lines)`);
      if (layout.small.length) violations.push(`${name}@${width}: controls under 44 px: ${layout.small.join(", ")}`);
    }
  }
  await page.setViewportSize(before);
  reviewed.push(name);
}

const appEnv = { ...process.env, SOFTTOKEN_VAULT: join(work, "vault.stv"), SOFTTOKEN_KEY_DIR: join(work, "keys"), SOFTTOKEN_PIN: PIN, SOFTTOKEN_NEW_PIN: PIN };
delete appEnv.SOFTTOKEN_ACTIVATION_PASSWORD;

/** Runs the `softtoken` CLI (the phone) and parses its JSON output. */
function app(...args) {
  return JSON.parse(execFileSync(join(bin, "softtoken"), [...args, "--json"], { env: appEnv, encoding: "utf8" }));
}

/** Runs a `softtoken-provider` command over the same state. */
function provider(args, env = {}) {
  return execFileSync(join(bin, "softtoken-provider"), [...stateArgs, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
}

/** Starts `serve` on a free loopback port; resolves to [process, base URL]. */
function serve() {
  const child = spawn(join(bin, "softtoken-provider"), [...stateArgs, "serve", "--listen", "127.0.0.1:0", "--outbox", outbox], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const base = line.replace(/^listening on /, "").trim();
      base.startsWith("http://") ? resolve([child, base]) : reject(new Error(`serve said ${line}`));
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

let passed = 0;
let failed = 0;
/** One named check: counted, its failure printed, the run goes on unless `stop`. */
async function check(name, body, { stop = false } = {}) {
  try {
    await body();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    if (stop) throw new Error(`stopping: ${name} failed`);
  }
}
function expect(cond, what) {
  if (!cond) throw new Error(what);
}

async function signIn(page, base, who) {
  await page.goto(`${base}/portal`);
  await page.fill('input[name="name"]', who.name);
  await page.fill('input[name="password"]', who.password);
  await Promise.all([page.waitForLoadState("load"), page.click("#sign-in")]);
}

/** The form fields of the first form on the page (its CSRF token among them). */
async function csrfOf(page) {
  return page.locator('input[name="csrf"]').first().inputValue();
}

let server;
let browser;
try {
  provider(["user", "add", ADMIN.name, "--admin", "--email", "alice@example.test"], { SOFTTOKEN_PROVIDER_PASSWORD: ADMIN.password });
  provider(["user", "add", USER.name], { SOFTTOKEN_PROVIDER_PASSWORD: USER.password });
  app("init", "--key-store", "file", "--kdf-memory-mib", "19", "--kdf-passes", "2", "--kdf-lanes", "1");
  const [child, base] = await serve();
  server = child;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1000, height: 1100 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  await check("a wrong password is refused with a message", async () => {
    await signIn(page, base, { name: ADMIN.name, password: "not the password" });
    await review(page, "sign-in");
    expect(await page.locator('[role="alert"]').isVisible(), "no error shown");
    expect((await page.locator("h1").textContent()) === "Sign in", "left the sign-in page");
  });

  await check("sign in lands on Authenticators, with a strict session cookie", async () => {
    await signIn(page, base, ADMIN);
    expect((await page.locator("h1").textContent()).includes("Authenticators"), `on ${await page.locator("h1").textContent()}`);
    const cookie = (await context.cookies()).find((c) => c.name === "softtoken_session");
    expect(cookie && cookie.httpOnly && cookie.sameSite === "Strict", `cookie ${JSON.stringify(cookie)}`);
  }, { stop: true });

  await check("pages carry a content security policy and refuse framing", async () => {
    const reply = await page.goto(`${base}/portal`);
    const h = reply.headers();
    expect((h["content-security-policy"] || "").includes("script-src 'self'"), `CSP ${h["content-security-policy"]}`);
    expect(h["x-frame-options"] === "DENY" && h["x-content-type-options"] === "nosniff", JSON.stringify(h));
  });

  let password, serial;
  const shot = join(work, "activate.png");
  await check("Add offers the kinds of authenticator; Soft token opens the Activate Token dialog, and reloading it makes no new token", async () => {
    await review(page, "authenticators-empty");
    await page.click("#add");
    expect((await page.locator("h1").textContent()) === "Add an authenticator", "no choice page");
    expect((await page.locator("#add-soft-token").count()) === 1 && (await page.locator("#add-oath").count()) === 1, "both kinds offered");
    await review(page, "add");
    await Promise.all([page.waitForLoadState("load"), page.click("#add-soft-token")]);
    expect(/\/portal\/authenticators\/\d+\/activation$/.test(page.url()), `not redirected to the dialog's page: ${page.url()}`);
    const first = (await page.locator("#serial").textContent()).trim();
    await page.reload();
    expect((await page.locator("#serial").textContent()).trim() === first, "a reload showed another activation");
    await page.goto(`${base}/portal`);
    expect((await page.locator("#authenticators tbody tr").count()) === 1, "a reload created a token");
    await page.goBack();
    expect((await page.locator("#serial").textContent()).trim() === first, "back to the same dialog");
  }, { stop: true });

  await check("Add → Activate Token shows the QR code, the password and a running countdown", async () => {
    expect(await page.locator("#qr").isVisible(), "no QR image");
    password = (await page.locator("#password").textContent()).trim();
    serial = (await page.locator("#serial").textContent()).trim();
    expect(/^\d{8}$/.test(password), `password ${password}`);
    const first = await page.locator("#countdown").textContent();
    await page.waitForFunction((before) => document.getElementById("countdown").textContent !== before, first, { timeout: 3000 });
    expect(/^\d+:\d\d$/.test(await page.locator("#countdown").textContent()), "countdown is not m:ss");
    await page.screenshot({ path: shot, fullPage: true });
    await review(page, "activate-token");
  }, { stop: true });

  let added;
  await check("softtoken reads the QR code from the page's screenshot and decrypts it with the password shown", async () => {
    added = app("add", "--qr", shot, "--password", password, "--name", "portal", "--transaction-url", base);
    expect(added.serial === serial, `serial ${added.serial} vs ${serial}`);
    expect(/^\d{5}-\d{5}$/.test(added.registration_code), `registration code ${added.registration_code}`);
  }, { stop: true });
  if (process.env.BROWSER_SCREENSHOT) copyFileSync(shot, process.env.BROWSER_SCREENSHOT);

  await check("Complete refuses a registration code with a typo in words, keeping what was typed", async () => {
    const rc = added.registration_code;
    const wrong = rc.slice(0, -1) + String((Number(rc.slice(-1)) + 1) % 10);
    await page.fill("#registration-code", wrong);
    await Promise.all([page.waitForLoadState("load"), page.click("#complete")]);
    const alert = await page.locator('[role="alert"]').textContent();
    expect(/typo/i.test(alert) && !/check digit does not match/.test(alert), `alert ${alert}`);
    const kept = await page.locator("#authenticators tr", { hasText: serial }).locator('input[name="registration_code"]').inputValue();
    expect(kept === wrong, `the field holds ${kept}`);
    await review(page, "authenticators-refused");
  });

  await check("Complete with the app's registration code makes the token active", async () => {
    await page.goto(`${base}/portal`);
    const row = page.locator("#authenticators tr", { hasText: serial });
    await row.locator('input[name="registration_code"]').fill(added.registration_code);
    await Promise.all([page.waitForLoadState("load"), row.locator('button:has-text("Complete")').click()]);
    expect((await page.locator("#authenticators tr", { hasText: serial }).getAttribute("data-state")) === "active", "not active");
  }, { stop: true });

  await check("the test sign-in page accepts the app's code and rejects a wrong one", async () => {
    await Promise.all([page.waitForLoadState("load"), page.locator("#authenticators tr", { hasText: serial }).locator("a.test").click()]);
    await review(page, "test-sign-in");
    const code = app("code", "portal").codes[0].code;
    await page.fill("#otp", code);
    await Promise.all([page.waitForLoadState("load"), page.click("#verify")]);
    expect((await page.locator("#verify-result").getAttribute("class")) === "ok", await page.locator("#verify-result").textContent());
    const wrong = code.slice(0, -1) + String((Number(code.slice(-1)) + 5) % 10);
    await page.fill("#otp", wrong);
    await Promise.all([page.waitForLoadState("load"), page.click("#verify")]);
    expect((await page.locator("#verify-result").getAttribute("class")) === "bad", "a wrong code passed");
  });

  await check("a push confirmed with `softtoken respond` and the page's number shows approved as it arrives", async () => {
    await Promise.all([page.waitForLoadState("load"), page.click("#send-push")]);
    const number = (await page.locator("#number").textContent()).trim();
    const id = await page.locator("#tx-state").getAttribute("data-transaction");
    expect((await page.locator("#tx-state").textContent()) === "pending", "not pending");
    const listed = app("transactions").transactions;
    expect(listed.some((t) => t.id === id), `transaction ${id} not listed to the phone`);
    const answered = app("respond", id, "confirm", "--number", number);
    expect(answered.state === "approved", JSON.stringify(answered));
    await page.waitForFunction(() => document.getElementById("tx-state").textContent === "approved", null, { timeout: 10000 });
    await review(page, "test-sign-in-approved");
  });

  await check("Suspicious and Cancel answers, and the activation, are in the log in words and local time", async () => {
    await Promise.all([page.waitForLoadState("load"), page.click("#send-push")]);
    const id = await page.locator("#tx-state").getAttribute("data-transaction");
    app("respond", id, "suspicious");
    await page.waitForFunction(() => document.getElementById("tx-state").textContent === "denied", null, { timeout: 10000 });
    await Promise.all([page.waitForLoadState("load"), page.click("#send-push")]);
    app("respond", await page.locator("#tx-state").getAttribute("data-transaction"), "cancel");
    await page.waitForFunction(() => document.getElementById("tx-state").textContent === "cancelled", null, { timeout: 10000 });
    await page.goto(`${base}/portal/log`);
    const rows = page.locator("#log tr", { hasText: serial });
    const kinds = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.kind));
    for (const kind of ["confirm", "suspicious", "cancel", "event"]) expect(kinds.includes(kind), `no ${kind} in ${kinds}`);
    const words = (await rows.locator(".what").allTextContents()).join(" | ");
    expect(words.includes("Confirmed") && words.includes("Reported as suspicious") && words.includes("Cancelled") && words.includes("Activation completed"), words);
    expect(!/wrong_number|suspicious\b(?! )/.test(words.replace("Reported as suspicious", "")), `codes instead of words: ${words}`);
    const shown = await page.locator("#log time").first().textContent();
    expect(!shown.includes("GMT"), `not in the viewer's time zone: ${shown}`);
    await review(page, "log");
  });

  await check("a form posted without its CSRF token is refused and changes nothing", async () => {
    await page.goto(`${base}/portal`);
    const before = await page.locator("#authenticators tbody tr").count();
    const reply = await page.request.post(`${base}/portal/authenticators`, { form: { csrf: "0".repeat(32) } });
    expect(reply.status() === 403, `status ${reply.status()}`);
    await page.goto(`${base}/portal`);
    expect((await page.locator("#authenticators tbody tr").count()) === before, "an authenticator was added");
  });

  await check("a form posted from another site is refused even with the right token", async () => {
    const csrf = await csrfOf(page);
    const reply = await page.request.post(`${base}/portal/authenticators`, { form: { csrf }, headers: { Origin: "http://evil.example", "Sec-Fetch-Site": "cross-site" } });
    expect(reply.status() === 403, `status ${reply.status()}`);
  });

  await check("an administrator's settings are escaped on the page and used by the next activation", async () => {
    await page.goto(`${base}/portal/admin`);
    await review(page, "administration");
    const policy = '{"note":"<img src=x id=injected>"}';
    await page.selectOption('select[name="digits"]', "8");
    await page.fill('input[name="policy"]', policy);
    await Promise.all([page.waitForLoadState("load"), page.click("#save-settings")]);
    expect((await page.locator("#injected").count()) === 0, "markup from the policy reached the page");
    expect((await page.locator('input[name="policy"]').inputValue()) === policy, "policy not kept verbatim");
    await page.goto(`${base}/portal`);
    // The administrator has an active token now: adding another needs a current code of it (a
    // stolen password alone must not add one).
    const before = await page.locator("#authenticators tbody tr").count();
    const refused = await page.request.post(`${base}/portal/authenticators`, { form: { csrf: await csrfOf(page) } });
    expect(refused.status() === 400 && (await refused.text()).includes("current code"), `status ${refused.status()}`);
    await page.goto(`${base}/portal`);
    expect((await page.locator("#authenticators tbody tr").count()) === before, "an authenticator was added without a second factor");
    await page.goto(`${base}/portal/add`);
    await page.fill("#add-code", app("code", "portal").codes[0].code);
    await Promise.all([page.waitForLoadState("load"), page.click("#add-soft-token")]);
    const uriPassword = (await page.locator("#password").textContent()).trim();
    await page.locator("#qr").screenshot({ path: join(work, "eight.png") });
    const decoded = JSON.parse(execFileSync(join(bin, "softtoken"), ["decode", join(work, "eight.png"), "--password", uriPassword, "--json"], { env: appEnv, encoding: "utf8" }));
    expect(decoded.policy === policy, `policy ${decoded.policy}`);
  });

  await check("an administrator assigns a token; the user sees it assigned and activates it", async () => {
    await page.goto(`${base}/portal/admin`);
    await Promise.all([page.waitForLoadState("load"), page.locator("#users tr", { hasText: USER.name }).locator("button.assign").click()]);
    const other = await browser.newContext();
    const bobPage = await other.newPage();
    await signIn(bobPage, base, USER);
    const row = bobPage.locator("#authenticators tbody tr").first();
    expect((await row.getAttribute("data-state")) === "assigned", `state ${await row.getAttribute("data-state")}`);
    expect((await bobPage.locator('a[href="/portal/admin"]').count()) === 0, "a user sees Administration");
    const admin = await bobPage.request.get(`${base}/portal/admin`);
    expect(admin.status() === 403, `a user reached administration: ${admin.status()}`);
    await Promise.all([bobPage.waitForLoadState("load"), row.locator("button.activate").click()]);
    expect(await bobPage.locator("#qr").isVisible(), "no QR after Activate");
    await other.close();
  });

  await check("guessed codes at the validate API lock the token, the audit log shows them, and the administrator's reset unlocks it", async () => {
    const code = app("code", "portal").codes[0].code;
    const wrong = code.slice(0, -1) + String((Number(code.slice(-1)) + 5) % 10);
    let last;
    for (let i = 0; i < 10; i++) last = await page.request.post(`${base}/validate/check`, { form: { user: ADMIN.name, pass: wrong } });
    expect((await last.json()).detail.message === "wrong otp value", "the tenth guess");
    const locked = await page.request.post(`${base}/validate/check`, { form: { user: ADMIN.name, pass: code } });
    expect((await locked.json()).detail.message === "Failcounter exceeded", "the right code passed a locked token");
    await page.goto(`${base}/portal`);
    const row = page.locator("#authenticators tr", { hasText: serial });
    expect(((await row.locator(".fails").textContent()) || "").includes("10 failed checks in a row: locked"), await row.textContent());
    await page.goto(`${base}/portal/audit?user=${ADMIN.name}`);
    expect((await page.locator("#audit tr.REJECT").count()) >= 11, "the audit log lacks the rejected checks");
    const exported = await page.request.get(`${base}/portal/audit.jsonl`);
    const lines = (await exported.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(exported.status() === 200 && lines.every((l) => l.endpoint === "check" || l.endpoint === "portal") && lines.some((l) => l.endpoint === "portal"), "the export is not JSON lines of checks and portal events");
    await review(page, "audit");
    await page.goto(`${base}/portal`);
    await Promise.all([page.waitForLoadState("load"), page.locator("#authenticators tr", { hasText: serial }).locator("button.reset").click()]);
    expect((await page.locator("#authenticators tr", { hasText: serial }).locator(".fails").count()) === 0, "still locked after the reset");
  });

  await check("Add → Authenticator app shows a TOTP token once; its codes pass the validate API", async () => {
    const carol = { name: "carol", password: "carols long password" };
    provider(["user", "add", carol.name], { SOFTTOKEN_PROVIDER_PASSWORD: carol.password });
    const other = await browser.newContext();
    const carolPage = await other.newPage();
    await signIn(carolPage, base, carol);
    await carolPage.goto(`${base}/portal/add`);
    await Promise.all([carolPage.waitForLoadState("load"), carolPage.click("#add-oath")]);
    expect(await carolPage.locator("#qr").isVisible(), "no QR code");
    const uri = (await carolPage.locator("#oath-uri").textContent()).trim();
    await review(carolPage, "authenticator-app-secret");
    // Shown once: a reload shows no secret and makes no new token.
    await carolPage.reload();
    expect((await carolPage.locator("#qr").count()) === 0 && (await carolPage.locator('[role="alert"]').textContent()).includes("shown once"), "the secret was shown again");
    expect((await carolPage.locator("#authenticators tbody tr").count()) === 1, "a reload made another token");
    expect(uri.startsWith("otpauth://totp/"), uri);
    app("add", "--uri", uri, "--name", "carol-app");
    const code = app("code", "carol-app").codes[0].code;
    const reply = await carolPage.request.post(`${base}/validate/check`, { form: { user: carol.name, pass: code } });
    expect((await reply.json()).result.authentication === "ACCEPT", "the app's code was not accepted");
    await carolPage.goto(`${base}/portal`);
    const row = carolPage.locator("#authenticators tbody tr").first();
    expect((await row.getAttribute("data-state")) === "active" && (await row.textContent()).includes("TOTP"), await row.textContent());
    await carolPage.goto(`${base}/portal/add`);
    expect((await carolPage.locator("#add-oath-code").count()) === 1, "a second token needs no code");
    await other.close();
  });

  await check("a user changes their password in My account: a wrong current one is refused, the old one then fails, the new one signs in", async () => {
    const other = await browser.newContext();
    const bobPage = await other.newPage();
    await signIn(bobPage, base, USER);
    await bobPage.goto(`${base}/portal/account`);
    await review(bobPage, "my-account");
    const change = async (current, next, repeat) => {
      await bobPage.fill('input[name="current"]', current);
      await bobPage.fill('input[name="new"]', next);
      await bobPage.fill('input[name="repeat"]', repeat);
      await Promise.all([bobPage.waitForLoadState("load"), bobPage.click('#change-password button[type="submit"]')]);
    };
    await change("not bob's password", "bobs new long password", "bobs new long password");
    expect((await bobPage.locator('[role="alert"]').textContent()).includes("current password is wrong"), "wrong current password not reported");
    await change(USER.password, "bobs new long password", "bobs new long password");
    expect((await bobPage.locator('[role="status"]').textContent()).includes("Password changed"), "no confirmation");
    await other.close();
    const fresh = await browser.newContext();
    const again = await fresh.newPage();
    await signIn(again, base, USER);
    expect((await again.locator("h1").textContent()) === "Sign in", "the old password still signs in");
    await signIn(again, base, { name: USER.name, password: "bobs new long password" });
    expect((await again.locator("h1").textContent()).includes("Authenticators"), "the new password does not sign in");
    await fresh.close();
  });

  await check("an administrator finds a user, disables their token (the validate API refuses it), enables it, sets their password and deletes them after a confirmation", async () => {
    const dave = { name: "dave", password: "daves long password" };
    provider(["user", "add", dave.name, "--email", "dave@example.test"], { SOFTTOKEN_PROVIDER_PASSWORD: dave.password });
    const uri = JSON.parse(provider(["issue", "--user", dave.name, "--kind", "totp", "--json"])).uri;
    app("add", "--uri", uri, "--name", "dave-app");
    await page.goto(`${base}/portal/admin?q=DAVE@EXAMPLE`);
    expect((await page.locator("#users tbody tr").count()) === 1, "the search by e-mail");
    await page.goto(`${base}/portal?all=1`);
    const row = page.locator("#authenticators tbody tr").filter({ has: page.locator('td[data-label="User"]', { hasText: dave.name }) }).first();
    await Promise.all([page.waitForLoadState("load"), row.locator("button.disable").click()]);
    const check1 = await page.request.post(`${base}/validate/check`, { form: { user: dave.name, pass: app("code", "dave-app").codes[0].code } });
    expect((await check1.json()).detail.message === "Token is disabled", JSON.stringify(await check1.json()));
    await page.goto(`${base}/portal?all=1`);
    const disabledRow = page.locator("#authenticators tr[data-disabled]").first();
    await Promise.all([page.waitForLoadState("load"), disabledRow.locator("button.enable").click()]);
    // Delete asks first; "Keep it" keeps it.
    await page.goto(`${base}/portal/admin?q=dave`);
    await page.locator("#users tr", { hasText: dave.name }).locator("summary").click();
    await page.locator("#users tr", { hasText: dave.name }).locator('input[name="password"]').fill("daves brand new password");
    await Promise.all([page.waitForLoadState("load"), page.locator("#users tr", { hasText: dave.name }).locator("button.set-password").click()]);
    expect((await page.locator('[role="status"]').textContent()).includes("password of dave was set"), "no confirmation of the new password");
    await Promise.all([page.waitForLoadState("load"), page.locator("#users tr", { hasText: dave.name }).locator("a.delete-user").click()]);
    expect((await page.locator("#confirm").textContent()).includes("Delete the user dave?"), "no confirmation asked");
    await review(page, "confirm-delete-user");
    await Promise.all([page.waitForLoadState("load"), page.click("#confirm-button")]);
    expect((await page.locator("#users tr", { hasText: dave.name }).count()) === 0, "dave is still listed");
    const check2 = await page.request.post(`${base}/validate/check`, { form: { user: dave.name, pass: app("code", "dave-app").codes[0].code } });
    expect((await check2.json()).result.authentication !== "ACCEPT", "a deleted user's code passed");
  });

  await check("Delete asks for a confirmation; Keep it keeps the authenticator", async () => {
    await page.goto(`${base}/portal`);
    const count = await page.locator("#authenticators tbody tr").count();
    await Promise.all([page.waitForLoadState("load"), page.locator("#authenticators tbody tr").first().locator("a.delete").click()]);
    expect((await page.locator("#confirm").textContent()).includes("cannot be undone"), "no confirmation");
    await Promise.all([page.waitForLoadState("load"), page.click('a:has-text("Keep it")')]);
    expect((await page.locator("#authenticators tbody tr").count()) === count, "deleted without a confirmation");
  });

  await check("the online activation link's https page hands the token to the app", async () => {
    await page.goto(`${base}/activate#token=0123456789abcdef0123456789abcdef`);
    const href = await page.locator("#open-app").getAttribute("href");
    expect(href === `softtoken://activate?base=${encodeURIComponent(base)}&token=0123456789abcdef0123456789abcdef`, href);
    await review(page, "open-app");
  });

  await check("every page: no serious or critical axe-core finding, fits 390 px, 44 px controls, header in two lines at most", async () => {
    expect(reviewed.length >= 12, `only ${reviewed.length} pages reviewed: ${reviewed}`);
    expect(violations.length === 0, `\n  ${violations.join("\n  ")}`);
  });

  await check("signing out ends the session", async () => {
    await page.goto(`${base}/portal`);
    await Promise.all([page.waitForLoadState("load"), page.click('button:has-text("Sign out")')]);
    await page.goto(`${base}/portal`);
    expect((await page.locator("h1").textContent()) === "Sign in", "still signed in");
  });
} catch (e) {
  if (!String(e).includes("stopping:")) {
    failed++;
    console.log(`FAIL set-up: ${e && e.stack ? e.stack : e}`);
  }
} finally {
  if (browser) await browser.close();
  if (server) server.kill();
  rmSync(work, { recursive: true, force: true });
}
console.log(`${label}: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
