// The journeys, each a user's sentence. Started by tests/api/browser.rs as
// `node journeys.mjs <name>` with the app's address and the demo accounts in the environment;
// prints one JSON report line and exits 1 on any failure.
import crypto from 'node:crypto';
import { Journey, run } from './lib.mjs';

const WORKER = process.env.PEERPATH_WORKER;
const WORKER_NAME = process.env.PEERPATH_WORKER_NAME;
const SUPERVISOR = process.env.PEERPATH_SUPERVISOR;
const MODULE = 'HCV-02 Transmission and prevention';

function daysAgo(n) {
  return new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);
}

const NEW_WORKER = process.env.PEERPATH_NEW_WORKER;
const NEW_WORKER_NAME = process.env.PEERPATH_NEW_WORKER_NAME;
const ASSESSOR = process.env.PEERPATH_ASSESSOR;
const RNA = 'C-04 Able to operate point-of-care RNA testing';

const SHARED = 'Walking the dog every morning keeps me steady';
const PRIVATE = 'PRIVATE-CANARY-7731 the thing I tell nobody';
const NOTE_PRIVATE = 'PRIVATE-CANARY-7732 a hard week';
const AGREED = 'Call the peer line on Friday';
const TOGETHER = 'Ring the housing officer together on Tuesday';

const MANAGER = process.env.PEERPATH_MANAGER;

// RFC 6238 as an authenticator app computes it from the key the set-up page shows.
function totp(secret, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/\s+/g, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = mac[19] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const nowStep = () => Math.floor(Date.now() / 30000);

const journeys = {
  // A programme manager's first sign-in sets up two-step verification from the page (QR code
  // or key), shows the recovery codes once; later sign-ins take a code from the app, or a
  // recovery code instead.
  async a_manager_sets_up_two_step_verification_and_signs_in_with_it(j, page) {
    await j.signIn(MANAGER, 'manager sign in');
    await j.check('set up two-step verification', { screenshot: 'two-step-set-up' });
    await j.sees('Set up two-step verification', 'first sign-in of a manager');
    const width = await page.locator('img.qr').evaluate((img) => img.naturalWidth);
    j.expect(width > 0, 'the QR code image loads');
    const secret = await page.locator('.secret code').innerText();
    await page.getByLabel('Code').fill('000000');
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await j.check('set up with a wrong code');
    await j.sees('The code is not right', 'a wrong first code');
    const first = nowStep();
    await page.getByLabel('Code').fill(totp(secret, first));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await j.check('recovery codes', { screenshot: 'two-step-recovery-codes' });
    await j.sees('Two-step verification is on.', 'after setting up');
    const codes = await page.locator('.codes code').allInnerTexts();
    j.expect(codes.length === 10, `10 recovery codes shown (${codes.length})`);
    await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
    await j.check('manager home after setting up');
    await j.signOut();

    await j.signIn(MANAGER, 'manager sign in again');
    await j.check('enter the code', { screenshot: 'two-step-code' });
    await j.sees('Enter the code from your app', 'a second sign-in');
    await page.getByRole('link', { name: /use a recovery code/ }).click();
    await j.check('use a recovery code');
    await page.getByLabel('Recovery code').fill(codes[0]);
    await page.getByRole('button', { name: 'Continue' }).click();
    await j.check('manager home with a recovery code');
    await j.signOut();

    await j.signIn(MANAGER, 'manager sign in a third time');
    await page.getByLabel('Code').fill(totp(secret, first));
    await page.getByRole('button', { name: 'Continue' }).click();
    await j.check('a code used before');
    await j.sees('The code is not right', 'a code taken twice');
    await page.getByLabel('Code').fill(totp(secret, first + 1));
    await page.getByRole('button', { name: 'Continue' }).click();
    await j.check('manager home with a code');
    const url = new URL(page.url());
    j.expect(url.pathname === '/', `signed in at ${url.pathname}`);
  },

  // A peer worker turns two-step verification on from their account, makes new recovery
  // codes, and turns it off again.
  async a_worker_turns_two_step_verification_on_and_off(j, page) {
    await j.signIn(WORKER);
    await j.goto('/account', 'account');
    await page.getByRole('link', { name: 'Two-step verification' }).click();
    await j.check('two-step verification off');
    await page.getByRole('button', { name: 'Set up two-step verification' }).click();
    await j.check('set up from the account');
    const secret = await page.locator('.secret code').innerText();
    const first = nowStep();
    await page.getByLabel('Code').fill(totp(secret, first));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await j.check('recovery codes from the account');
    await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
    await j.goto('/account/two-step', 'two-step verification on');
    await j.sees('You have 10 recovery codes left.', 'after turning it on');
    await page.getByLabel('Code from your app').fill('12');
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    await j.check('new recovery codes with a wrong code');
    await j.sees('The code is not right', 'a wrong code for new recovery codes');
    await page.getByRole('link', { name: 'Turn off two-step verification' }).click();
    await j.check('turn off two-step verification');
    await page.getByLabel('Code from your app').fill(totp(secret, first + 1));
    await page.getByRole('button', { name: 'Turn it off' }).click();
    await j.check('turned off');
    await j.sees('Two-step verification is off', 'after turning it off');
  },

  // The pages the other journeys do not reach, each checked the same way (axe, 320 px, weight).
  async every_other_page_passes_the_same_checks(j, page) {
    await j.goto('/account/reset-password', 'forgot password');
    await j.goto('/account/set-password', 'incomplete link');
    await j.goto('/no-such-page', 'page not found');
    await j.signIn(WORKER);
    for (const [path, label] of [
      ['/supervision', 'worker supervision'], ['/account', 'account'],
      ['/account/password', 'change password'], ['/account/emails', 'email choices'],
      ['/recovery/break', 'take a break'], ['/account/recovery-data/erase', 'erase recovery data'],
      ['/recovery/checkins', 'check-ins (none)'], ['/queue', 'queue refused to a worker'],
    ]) {
      await j.goto(path, label);
    }
    await page.goto(`${process.env.PEERPATH_URL}/account/password`);
    await page.getByRole('button', { name: 'Change my password' }).click();
    await j.check('change password with mistakes');
    await j.sees('Enter your current password', 'change password with mistakes');
    await j.signOut();
    await j.signIn(SUPERVISOR, 'supervisor sign in');
    await j.goto('/supervisees', 'supervisees');
    await page.getByRole('link', { name: WORKER_NAME }).click();
    await j.check('supervisee');
    await page.getByRole('link', { name: 'Record a supervision session' }).click();
    await j.check('record a supervision session');
    await page.getByLabel('Reflective practice').check();
    await page.getByRole('button', { name: 'Record this session' }).click();
    await j.check('session recorded');
    await j.sees('The supervision session is recorded.', 'after recording a session');
    await page.getByRole('link', { name: 'Record an observed practice' }).click();
    await j.check('record an observed practice from the supervisee page');
    await page.goBack();
    await page.getByRole('link', { name: 'Propose them for the next stage' }).click();
    await j.check('propose a progression');
    await page.getByLabel('Why are they ready?').fill('Leads the outreach clinic with confidence');
    await page.getByRole('button', { name: 'Continue' }).click();
    await j.check('check the proposal');
    await page.getByRole('button', { name: 'Confirm and propose' }).click();
    await j.check('proposed');
    await j.sees('The progression is proposed.', 'after proposing');
    await j.signOut();
    await j.signIn(WORKER);
    await j.goto('/supervision', 'supervision to confirm');
    await page.getByRole('button', { name: /Yes, this happened/ }).first().click();
    await j.check('session confirmed');
    await j.sees('The session now counts toward your pathway.', 'after confirming');
  },

  // A worker writes their plan, sharing one part only, and records a check-in asking for a
  // call; the supervisor reads what was shared and nothing else.
  async recovery_support_is_shared_only_as_the_worker_chooses(j, page) {
    await j.signIn(WORKER);
    await page.getByRole('link', { name: 'Recovery support', exact: true }).click();
    await j.check('recovery support', { screenshot: 'recovery' });
    await page.getByRole('link', { name: 'Your recovery plan' }).click();
    await j.check('plan', { screenshot: 'plan' });
    await page.getByRole('link', { name: 'Write My wellness toolbox' }).click();
    await j.check('plan section');
    await page.getByRole('button', { name: 'Save this part' }).click();
    await j.check('plan section without a choice');
    await j.sees('Choose whether your supervisor may read this part', 'plan section without a choice');
    await page.getByLabel('In your words').fill(SHARED);
    await page.getByLabel('Yes, my supervisor may read it').check();
    await page.getByRole('button', { name: 'Save this part' }).click();
    await j.check('plan saved');
    await j.sees('Your plan is saved.', 'plan saved');
    await page.getByRole('link', { name: 'Write Triggers' }).click();
    await page.getByLabel('In your words').fill(PRIVATE);
    await page.getByLabel('No, keep it to myself').check();
    await page.getByRole('button', { name: 'Save this part' }).click();
    await j.check('plan saved twice');
    await j.sees(PRIVATE, 'the worker reads their own private part');

    await j.goto('/recovery/checkins/new', 'check-in form', { screenshot: 'check-in' });
    await page.getByLabel('4: good').check();
    await page.getByLabel('Struggling: I need support soon').check();
    await page.getByLabel('I would like a call from my supervisor').check();
    await page.getByLabel('What you agreed to do (optional)').fill(AGREED);
    await page.getByLabel('My supervisor may read what I agreed').check();
    await page.getByLabel('Your notes (optional)').fill(NOTE_PRIVATE);
    await page.getByRole('button', { name: 'Save my check-in' }).click();
    await j.check('check-in saved');
    await j.sees('We have told your supervisor you would like to talk.', 'check-in saved');
    await j.goto('/recovery/checkins', 'check-ins');
    await j.sees(NOTE_PRIVATE, 'the worker reads their own notes');
    await j.goto('/account/recovery-data', 'recovery data');
    await j.signOut();

    await j.signIn(SUPERVISOR, 'supervisor sign in');
    await page.getByRole('link', { name: 'Supervisees', exact: true }).click();
    await j.check('supervisees', { screenshot: 'supervisees' });
    await page.getByRole('link', { name: WORKER_NAME }).click();
    await j.check('supervisee', { screenshot: 'supervisee' });
    await page.getByRole('link', { name: 'Check-ins and what they share' }).click();
    await j.check('supervisee recovery', { screenshot: 'supervisee-recovery' });
    await j.sees(SHARED, 'the supervisor reads the shared part');
    await j.sees(AGREED, 'the supervisor reads the shared agreement');
    await j.sees('Struggling: I need support soon', 'the supervisor sees the risk');
    const all = await page.content();
    j.expect(!all.includes('PRIVATE-CANARY'), 'the supervisor never reads what was not shared');
    await page.getByRole('link', { name: 'Record a check-in you held together' }).click();
    await j.check('check-in held together');
    await page.getByRole('button', { name: 'Save the check-in' }).click();
    await j.check('check-in held together, refused');
    await j.sees('There is a problem', 'an empty check-in is refused');
    await page.getByLabel('3: OK').check();
    await page.getByLabel('A bit worried').check();
    await page.getByLabel('What you agreed (optional)').fill(TOGETHER);
    await page.getByRole('button', { name: 'Save the check-in' }).click();
    await j.check('check-in held together, saved');
    await j.sees('The check-in is saved.', 'the supervisor recorded a check-in held together');
    await j.sees(TOGETHER, 'the supervisor reads what they wrote down');
    await j.signOut();

    await j.signIn(WORKER);
    await j.goto('/recovery/checkins', 'check-ins with the one held together');
    await j.sees(TOGETHER, 'the worker reads what the supervisor wrote down');
    await j.sees('A supervisor wrote this down with you.', 'the worker is told who wrote it');
    await j.goto('/account/recovery-data', 'recovery data after the supervisor read it', { screenshot: 'recovery-data' });
    await j.sees('Alex Supervisor (supervisor)', 'the worker sees who read their data');
  },

  // A sign-off that needs observed practice is refused with the number missing, then signed
  // off once the observations are recorded.
  async a_sign_off_waits_for_its_observed_practice(j, page) {
    await j.signIn(NEW_WORKER);
    await page.getByRole('link', { name: 'Competencies', exact: true }).click();
    await j.check('competencies', { screenshot: 'competencies' });
    await page.getByRole('link', { name: RNA }).click();
    await j.check('competency');
    await j.sees('0 of 5 observed practices recorded', 'competency before observations');
    await page.getByRole('button', { name: 'Ask for a sign-off' }).click();
    await j.check('sign-off request without evidence');
    await j.sees('Describe your evidence', 'request without evidence');
    await page.getByLabel('Your evidence').fill('Five RNA tests at the outreach van with my supervisor');
    await page.getByRole('button', { name: 'Ask for a sign-off' }).click();
    await j.check('sign-off requested');
    await j.sees('You have asked for a sign-off.', 'after asking');
    await j.sees('Waiting for a decision', 'after asking');
    await j.signOut();

    await j.signIn(ASSESSOR, 'assessor sign in');
    await j.goto('/queue', 'assessor queue');
    await page.getByRole('link', { name: `${NEW_WORKER_NAME}: ${RNA}` }).click();
    await j.check('decide sign-off', { screenshot: 'decide-sign-off' });
    await j.sees('0 of 5 observed practices recorded', 'decision page');
    const decide = async () => {
      await page.getByLabel('Yes, sign it off').check();
      await page.getByRole('button', { name: 'Continue' }).click();
      await j.check('check sign-off answer');
      await page.getByRole('button', { name: 'Confirm and sign off' }).click();
    };
    await decide();
    await j.check('sign-off refused');
    await j.sees('You need 5 more observed practices of this competency before you can sign it off', 'refused sign-off');
    for (let n = 0; n < 5; n += 1) {
      await page.getByRole('link', { name: 'Record an observed practice' }).click();
      await j.check('record observation', n === 0 ? { screenshot: 'record-observation' } : {});
      await page.getByLabel('When did you observe it?').fill(daysAgo(n + 1));
      await page.getByLabel('Competent: done safely and well').check();
      await page.getByRole('button', { name: 'Record this observation' }).click();
      await j.check('observation recorded');
      await j.sees('The observed practice is recorded.', 'after an observation');
    }
    await j.sees('5 of 5 observed practices recorded', 'decision page after observations');
    await decide();
    await j.check('queue after sign-off');
    await j.sees('The competency is signed off.', 'queue after sign-off');
    await j.signOut();

    await j.signIn(NEW_WORKER);
    await j.goto('/competencies', 'competencies after sign-off');
    const row = page.locator('li', { has: page.getByRole('link', { name: RNA }) });
    j.expect((await row.innerText()).includes('Signed off'), 'the worker sees the competency signed off');
  },

  // A peer worker logs training, the supervisor verifies it, the worker sees it verified.
  async training_is_logged_verified_and_seen(j, page) {
    await j.signIn(WORKER);
    await j.check('worker home', { screenshot: 'worker-home' });
    await j.sees('Your pathway', 'worker home');
    await j.sees('more before you can move on', 'worker home');

    await page.getByRole('link', { name: 'Training', exact: true }).click();
    await j.check('training list', { screenshot: 'training' });
    await page.getByRole('link', { name: 'Log training you have done' }).click();
    await j.check('log training');

    await page.getByRole('button', { name: 'Log this training' }).click();
    await j.check('log training, nothing filled in', { screenshot: 'log-training-errors' });
    await j.sees('There is a problem', 'empty training form');
    await j.sees('Choose the module you did', 'empty training form');
    await j.sees('Enter how many hours it took', 'empty training form');
    j.expect((await page.title()).startsWith('Error: '), 'the title of a form with errors starts with Error:');
    await page.getByRole('link', { name: 'Choose the module you did' }).click();
    j.expect(await page.evaluate(() => document.activeElement?.id) === 'module_id',
      'the error summary link moves the focus to its field');

    await page.getByLabel('Which training did you do?').selectOption({ label: MODULE });
    await page.getByLabel('When did you finish it?').fill(daysAgo(3));
    await page.getByLabel('How many hours did it take?').fill('2.5');
    await page.getByLabel('Who ran it?').fill('The Hepatitis C Trust');
    await page.getByLabel('Evidence (optional)').fill('Certificate in my folder');
    await page.getByRole('button', { name: 'Log this training' }).click();
    await j.check('training logged');
    await j.sees('Your training is logged. Your supervisor will check it.', 'after logging');
    await j.sees(MODULE, 'after logging');
    await j.signOut();

    await j.signIn(SUPERVISOR, 'supervisor sign in');
    await j.check('supervisor home');
    await page.getByRole('link', { name: 'Queue', exact: true }).click();
    await j.check('queue', { screenshot: 'queue' });
    await page.getByRole('link', { name: `${WORKER_NAME}: ${MODULE}` }).first().click();
    await j.check('check training', { screenshot: 'check-training' });
    await j.sees('2.5', 'check training');
    await page.getByRole('button', { name: 'Continue' }).click();
    await j.check('check training, no choice');
    await j.sees('Choose whether you verify this training', 'decision without a choice');
    await page.getByLabel('Yes, verify it').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await j.check('check your answer', { screenshot: 'check-your-answer' });
    await j.sees('Check your answer', 'check your answer');
    await page.getByRole('button', { name: 'Confirm and verify' }).click();
    await j.check('queue after verifying');
    await j.sees('The training is verified.', 'queue after verifying');
    await j.signOut();

    await j.signIn(WORKER);
    await page.getByRole('link', { name: 'Training', exact: true }).click();
    await j.check('training list after verification');
    const verified = page.locator('h2:text("Verified and in date") + ul');
    j.expect((await verified.innerText()).includes(MODULE), 'the worker sees the training verified');
  },

  // The same worker's week by keyboard alone: sign in, log training, read it back.
  async a_worker_logs_training_by_keyboard_alone(j, page) {
    await j.goto('/sign-in', 'sign in (keyboard)');
    await page.keyboard.press('Tab');
    j.expect(await page.evaluate(() => document.activeElement?.textContent) === 'Skip to main content',
      'the first Tab reaches the skip link');
    await j.tabTo(page.getByLabel('Email address'), 'email');
    await page.keyboard.type(WORKER);
    await j.tabTo(page.getByLabel('Password'), 'password');
    await page.keyboard.type(process.env.PEERPATH_PASSWORD);
    await j.pressToNavigate();
    await j.check('home (keyboard)');
    await j.tabTo(page.getByRole('link', { name: 'Training', exact: true }), 'training link');
    await j.pressToNavigate();
    await j.tabTo(page.getByRole('link', { name: 'Log training you have done' }), 'log link');
    await j.pressToNavigate();
    await j.check('log training (keyboard)');
    await j.tabTo(page.getByLabel('Which training did you do?'), 'module');
    await page.getByLabel('Which training did you do?').selectOption({ label: MODULE });
    await j.tabTo(page.getByLabel('When did you finish it?'), 'date');
    await page.getByLabel('When did you finish it?').fill(daysAgo(10));
    await j.tabTo(page.getByLabel('How many hours did it take?'), 'hours');
    await page.keyboard.type('3');
    await j.tabTo(page.getByLabel('Who ran it?'), 'provider');
    await page.keyboard.type('My clinic');
    await j.tabTo(page.getByRole('button', { name: 'Log this training' }), 'submit');
    await j.pressToNavigate();
    await j.check('training logged (keyboard)');
    await j.sees('Your training is logged.', 'keyboard journey');
  },

  // With JavaScript switched off: sign in, log training, withdraw it, sign out.
  async a_worker_logs_and_withdraws_training_without_javascript(j, page) {
    await j.signIn(WORKER);
    await j.check('home (no script)');
    await j.sees('Your pathway', 'home without JavaScript');
    await j.goto('/training/new', 'log training (no script)');
    await page.getByLabel('Which training did you do?').selectOption({ label: MODULE });
    // Without a date picker people type the date as they write it.
    await page.getByLabel('When did you finish it?').fill(daysAgo(5));
    await page.getByLabel('How many hours did it take?').fill('1,5');
    await page.getByLabel('Who ran it?').fill('Peer network');
    await page.getByRole('button', { name: 'Log this training' }).click();
    await j.check('training logged (no script)');
    await j.sees('Your training is logged.', 'no-script journey');
    await page.getByRole('link', { name: MODULE }).first().click();
    await j.check('training record (no script)');
    await page.getByRole('link', { name: 'Withdraw this record' }).click();
    await j.check('withdraw (no script)');
    await page.getByRole('button', { name: 'Yes, withdraw it' }).click();
    await j.check('withdrawn (no script)');
    await j.sees('Your training record is withdrawn.', 'no-script journey');
    await j.signOut();
  },
};

const name = process.argv[2];
const steps = journeys[name];
if (!steps) {
  process.stdout.write(`${JSON.stringify({ journey: name, failures: [`no journey named ${name}`] })}\n`);
  process.exit(2);
}
const options = name.includes('without_javascript') ? { javaScript: false } : {};
await run(new Journey(name, options), steps);
