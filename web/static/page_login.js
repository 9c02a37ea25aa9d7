// SPDX-License-Identifier: MIT
// page_login.js - logging in, and the first-run setup: a gateway without any admin prints a
// one-time setup token in its log (`journalctl -u nbgate`); POST /api/nbgate/setup with it
// creates the first admin and answers a token pair. There is no default account or password.
// The other way to the first admin is `nbgate admin create USER` on the gateway itself.

import { login, setup } from './api.js';
import { field, h, msg, replace } from './dom.js';

const PASSWORD_MIN = 6;
const PASSWORD_MAX = 72;

function loginForm(ctx, out) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, id: 'login-user' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, id: 'login-pass' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit' }, 'Log in');
  const form = h('form', { class: 'form', id: 'login-form' },
    field('User name', user), field('Password', pass), h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    replace(out);
    try {
      await login(user.value.trim(), pass.value);
      pass.value = '';
      ctx.loggedIn();
    } catch (e) {
      replace(out, msg('err', e.status === 429 ? `Too many failed logins: ${e.message}` : e.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function setupForm(ctx, out) {
  const token = h('input', { name: 'setupToken', autocomplete: 'off', required: true, id: 'setup-token',
    spellcheck: 'false' });
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, id: 'setup-user' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true,
    minlength: PASSWORD_MIN, maxlength: PASSWORD_MAX, id: 'setup-pass' });
  const pass2 = h('input', { name: 'password2', type: 'password', autocomplete: 'new-password',
    required: true, id: 'setup-pass2' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'setup-submit' },
    'Create the first admin');
  const form = h('form', { class: 'form', id: 'setup-form' },
    field('Setup token', token, 'Printed once in the gateway log: "no admin user yet … setupToken".'),
    field('Admin user name', user, 'An e-mail-like name keeps ThingsBoard clients happy.'),
    field('Password', pass, `${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`),
    field('Password again', pass2),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(out);
    if (pass.value !== pass2.value) {
      replace(out, msg('err', 'The two passwords differ.'));
      return;
    }
    submit.disabled = true;
    try {
      await setup(token.value.trim(), user.value.trim(), pass.value);
      pass.value = '';
      pass2.value = '';
      ctx.loggedIn();
    } catch (e) {
      replace(out, msg('err', e.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function loginPage(main, params, ctx) {
  const out = h('div', { class: 'out', 'aria-live': 'polite' });
  main.appendChild(h('div', { class: 'login' },
    h('h1', {}, 'nbgate'),
    h('p', { class: 'lead' }, 'Field gateway for NB-IoT sensors'),
    ctx.notice ? msg('info', ctx.notice) : null,
    out,
    h('section', { class: 'card' }, h('h2', {}, 'Log in'), loginForm(ctx, out)),
    h('details', { class: 'card', id: 'first-run' },
      h('summary', {}, 'First run: create the first admin'),
      h('p', {}, 'A new gateway has no account and no default password. Either run ',
        h('code', {}, 'nbgate admin create USER'), ' on the gateway, or use the one-time setup token ' +
        'from the gateway log:'),
      h('pre', { class: 'cmd' }, 'journalctl -u nbgate | grep setupToken'),
      setupForm(ctx, out))));
}
