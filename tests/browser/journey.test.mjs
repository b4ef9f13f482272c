// Browser journeys of the Facteur portal, in Debian's Chromium driven by playwright-core.
//
// Starts the real `facteur` binary (path in FACTEUR_BIN) on a free loopback port with a fresh data
// directory and no SMTP, so every mail lands as an .eml file in DATA/outbox/; the activation link is
// read from that mail, as a user would. Run by scripts/browser-tests.sh (`node --test`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.FACTEUR_BIN;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = process.env.BROWSER_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'facteur-shots-'));

let server;
let serverLog = '';
let base;
let dataDir;
let browser;

// --- helpers ------------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Appends the Luhn check digit that makes `digits` valid. */
function withLuhnKey(digits) {
  for (let last = 0; last < 10; last++) {
    const all = [...digits, last];
    const sum = all
      .reverse()
      .map((d, i) => (i % 2 === 1 ? d * 2 : d))
      .map((d) => (d > 9 ? d - 9 : d))
      .reduce((a, b) => a + b, 0);
    if (sum % 10 === 0) return [...digits, last];
  }
  throw new Error('unreachable');
}

/** A valid SIRET: a Luhn-valid SIREN (random, not La Poste's) + NIC, the whole also Luhn-valid. */
function siret() {
  const prefix = Array.from({ length: 8 }, (_, i) => (i === 0 ? 1 + Math.floor(Math.random() * 8) : Math.floor(Math.random() * 10)));
  const siren = withLuhnKey(prefix);
  const nic = Array.from({ length: 4 }, () => Math.floor(Math.random() * 10));
  return withLuhnKey([...siren, ...nic]).join('');
}

async function waitHealthy(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    if (server.exitCode !== null) throw new Error(`facteur exited (${server.exitCode}):\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`facteur did not answer on ${url} within ${ms} ms:\n${serverLog}`);
}

/** Decodes the body of a simple (possibly multipart) message: quoted-printable or base64. */
function decodeMail(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const parts = [];
  const re = /Content-Transfer-Encoding:\s*([\w-]+)[^\n]*\n(?:[^\n]+\n)*\n([\s\S]*?)(?=\n--|$)/gi;
  let m;
  while ((m = re.exec(text))) {
    const enc = m[1].toLowerCase();
    const body = m[2];
    if (enc === 'quoted-printable') {
      const bytes = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
      parts.push(Buffer.from(bytes, 'latin1').toString('utf8'));
    } else if (enc === 'base64') {
      parts.push(Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8'));
    } else {
      parts.push(body);
    }
  }
  return parts.length ? parts.join('\n') : text;
}

/** The link of `linkPath` in the newest mail sent to `to` (waits for it to be written). */
async function linkFromMail(to, linkPath) {
  const outbox = path.join(dataDir, 'outbox');
  const end = Date.now() + 15000;
  while (Date.now() < end) {
    if (fs.existsSync(outbox)) {
      const files = fs
        .readdirSync(outbox)
        .filter((f) => f.endsWith('.eml'))
        .map((f) => path.join(outbox, f))
        .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
      for (const f of files) {
        const raw = fs.readFileSync(f, 'utf8');
        if (!new RegExp(`^To:.*${to.replace(/[.+]/g, '\\$&')}`, 'mi').test(raw)) continue;
        const body = decodeMail(raw);
        const found = body.match(new RegExp(`https?://[^\\s"<>]*${linkPath}[A-Za-z0-9_\\-]+`));
        if (found) return found[0];
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} with a ${linkPath} link in ${outbox}`);
}

async function newPage() {
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1200, height: 900 } });
  return context.newPage();
}

// The policy the portal must live with: no inline script, handler or style anywhere.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:";

/**
 * A page whose portal answers carry CSP (added here, so the check does not depend on the server
 * sending the header); every violation the browser reports is collected in `page.cspViolations`.
 */
async function newCspPage() {
  const page = await newPage();
  page.cspViolations = [];
  await page.route(`${base}/**`, async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    const headers = { ...response.headers(), 'content-security-policy': CSP };
    await route.fulfill({ response, headers });
  });
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) page.cspViolations.push(msg.text());
  });
  return page;
}

async function signUpAndActivate(page, email, password, identifier, name) {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Adresse électronique', { exact: true }).fill(email);
  await page.getByLabel('Mot de passe', { exact: true }).fill(password);
  await page.getByLabel("Type d'identifiant de la structure", { exact: true }).selectOption('SIRET');
  await page.getByLabel('Identifiant de la structure', { exact: true }).fill(identifier);
  if (name) await page.getByLabel('Raison sociale', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Créer mon compte' }).click();
  await page.getByRole('heading', { name: 'Consultez votre messagerie' }).waitFor();
  const link = await linkFromMail(email, '/activer/');
  assert.ok(link.startsWith(base), `activation link ${link} points at this server (${base})`);
  await page.goto(link);
  await page.getByRole('heading', { name: 'Compte activé' }).waitFor();
  return link;
}

async function logIn(page, email, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse électronique', { exact: true }).fill(email);
  await page.getByLabel('Mot de passe', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('heading', { name: 'Accueil' }).waitFor();
}

// --- server lifecycle ---------------------------------------------------------------------------

before(async () => {
  assert.ok(BIN && fs.existsSync(BIN), `FACTEUR_BIN must name the built binary (got ${BIN})`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facteur-browser-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    FACTEUR_DATA_DIR: dataDir,
    FACTEUR_LISTEN: `127.0.0.1:${port}`,
    FACTEUR_BASE_URL: base,
    RUST_LOG: process.env.RUST_LOG || 'info',
  };
  delete env.FACTEUR_SMTP_URL;
  delete env.FACTEUR_DATABASE_URL;
  delete env.FACTEUR_BLOB_URL;

  // A public entity in the directory, through the operator's CSV import.
  const csv = path.join(dataDir, 'directory.csv');
  fs.writeFileSync(
    csv,
    'type_identifiant,identifiant,raison_sociale,code_postal,ville,code_service_obligatoire,engagement_obligatoire,code_service,libelle_service\n' +
      `SIRET,${siret()},Commune de Valbonne-sur-Loire,45000,Orléans,1,0,MAIRIE,Services de la mairie\n`,
  );
  execFileSync(BIN, ['directory', 'import', csv], { env, stdio: 'pipe' });

  server = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  await waitHealthy(`${base}/healthz`, 30000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  console.log(`screenshots: ${ARTIFACTS}`);
});

// --- the journey --------------------------------------------------------------------------------

const PASSWORD = 'un mot de passe solide';
const SIRET = siret();
const MANAGER = `gestion-${Date.now()}@exemple.fr`;
const MEMBER = `agent-${Date.now()}@exemple.fr`;

test('sign-up → activation link read from the mail → login (manager of a new structure)', async () => {
  const page = await newPage();
  const link = await signUpAndActivate(page, MANAGER, PASSWORD, SIRET, 'Menuiserie Martin');
  await page.screenshot({ path: path.join(ARTIFACTS, 'activation.png'), fullPage: true });

  // The same link a second time is refused with a clear message.
  await page.goto(link);
  await page.getByRole('heading', { name: "Lien d'activation inutilisable" }).waitFor();

  await logIn(page, MANAGER, PASSWORD);
  await assert.doesNotReject(page.getByRole('cell', { name: 'Menuiserie Martin' }).first().waitFor());
  await assert.doesNotReject(page.getByRole('cell', { name: 'Gestionnaire principal' }).waitFor());
  await page.screenshot({ path: path.join(ARTIFACTS, 'home-manager.png'), fullPage: true });
  await page.context().close();
});

test('wrong password shows the error next to the form, in French then in English', async () => {
  const page = await newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse électronique', { exact: true }).fill(MANAGER);
  await page.getByLabel('Mot de passe', { exact: true }).fill('pas le bon mot de passe');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('alert').filter({ hasText: 'Adresse électronique ou mot de passe incorrect.' }).waitFor();
  await page.getByRole('link', { name: /EN/ }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.screenshot({ path: path.join(ARTIFACTS, 'login-en.png'), fullPage: true });
  await page.context().close();
});

test('a second user asks to join; the manager approves; the member sees it', async () => {
  const member = await newPage();
  await signUpAndActivate(member, MEMBER, PASSWORD, SIRET, 'Menuiserie Martin');
  await logIn(member, MEMBER, PASSWORD);
  await member.getByRole('cell', { name: 'En attente' }).waitFor();

  const manager = await newPage();
  await logIn(manager, MANAGER, PASSWORD);
  await manager.getByRole('link', { name: 'Demandes de rattachement' }).click();
  await manager.getByRole('heading', { name: 'Demandes de rattachement en attente' }).waitFor();
  await manager.getByRole('cell', { name: MEMBER, exact: true }).waitFor();
  await manager.screenshot({ path: path.join(ARTIFACTS, 'requests.png'), fullPage: true });
  await manager.getByRole('button', { name: `Valider ${MEMBER}` }).click();
  await manager.getByText('Aucune demande en attente.').waitFor();

  await manager.getByRole('link', { name: 'Utilisateurs' }).click();
  const row = manager.getByRole('row').filter({ hasText: MEMBER });
  await row.getByRole('cell', { name: 'Validé' }).waitFor();

  await member.reload();
  await member.getByRole('cell', { name: 'Validé' }).waitFor();
  await member.context().close();
  await manager.context().close();
});

test('directory search and the recipient autocomplete', async () => {
  const page = await newCspPage();
  await page.goto(`${base}/directory`);
  await page.getByRole('searchbox', { name: 'Rechercher', exact: true }).fill('Valbonne');
  await page.getByRole('button', { name: 'Rechercher', exact: true }).click();
  const result = page.getByRole('row').filter({ hasText: 'Commune de Valbonne-sur-Loire' });
  await result.waitFor();
  assert.match(await result.innerText(), /45000/);
  assert.match(await result.innerText(), /MAIRIE/);

  await page.getByRole('combobox', { name: 'Destinataire', exact: true }).pressSequentially('Valbo', { delay: 30 });
  const option = page.getByRole('option').filter({ hasText: 'Commune de Valbonne-sur-Loire' });
  await option.waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'directory.png'), fullPage: true });
  await option.getByRole('button').click();
  await page.getByText(/Destinataire choisi : Commune de Valbonne-sur-Loire/).waitFor();
  assert.match(await page.getByRole('combobox', { name: 'Destinataire', exact: true }).inputValue(), /^\d{14}$/);
  assert.deepEqual(page.cspViolations, [], 'the autocomplete works under script-src/style-src self');
  await page.context().close();
});

test('a refused form names what is wrong in a summary that takes focus, and keeps a good password', async () => {
  const page = await newCspPage();
  await page.goto(`${base}/signup`);
  await page.getByLabel('Adresse électronique', { exact: true }).fill('pas-une-adresse');
  await page.getByLabel('Mot de passe', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Créer mon compte' }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'Le formulaire contient des erreurs' });
  await summary.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'error-summary');
  await summary.getByRole('link', { name: /adresse électronique valide/ }).click();
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'f-email');
  assert.equal(await page.getByLabel('Mot de passe', { exact: true }).inputValue(), PASSWORD);
  await page.screenshot({ path: path.join(ARTIFACTS, 'signup-errors.png'), fullPage: true });
  assert.deepEqual(page.cspViolations, []);
  await page.context().close();
});

test('technical account: secrets shown once after a redirect, reset only after confirmation', async () => {
  const page = await newCspPage();
  await logIn(page, MANAGER, PASSWORD);
  await page.getByRole('link', { name: 'Comptes techniques' }).click();
  await page.getByRole('button', { name: 'Créer le compte technique' }).click();
  await page.waitForURL(/\/manage\/technical\?new=1$/);
  const secret = page.getByRole('textbox', { name: 'Mot de passe', exact: true });
  const first = await secret.inputValue();
  assert.ok(first.length > 20, 'the password is shown');
  await page.getByRole('button', { name: 'Copier Mot de passe' }).waitFor(); // shown by facteur.js
  await page.screenshot({ path: path.join(ARTIFACTS, 'technical-secrets.png'), fullPage: true });

  // A reload neither shows the secrets again nor creates anything.
  await page.reload();
  await page.getByText('Les secrets ont déjà été affichés').waitFor();
  assert.equal(await secret.count(), 0);

  // Reset asks first; cancelling changes nothing.
  await page.getByRole('button', { name: 'Réinitialiser les secrets' }).click();
  await page.getByRole('heading', { name: 'Réinitialiser les secrets ?' }).waitFor();
  await page.getByRole('link', { name: 'Annuler' }).click();
  await page.getByRole('heading', { name: 'Comptes techniques' }).waitFor();
  assert.equal(await secret.count(), 0);
  await page.getByRole('button', { name: 'Réinitialiser les secrets' }).click();
  await page.getByRole('button', { name: 'Réinitialiser les secrets' }).click();
  await page.waitForURL(/\/manage\/technical\?new=1$/);
  const second = await secret.inputValue();
  assert.ok(second.length > 20 && second !== first, 'new secrets');
  assert.deepEqual(page.cspViolations, []);
  await page.context().close();
});
