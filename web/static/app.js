// SPDX-License-Identifier: MIT
// app.js - entry module of nbgate's admin page: the hash router, the header, and the session
// gate. Routes (hash only, so the gateway serves one page and a reload never hits the API):
//   #/login               log in, or first-run setup with the setup token
//   #/                    fleet: counts, search, paging
//   #/device/<uuid>       one device: data, attributes, credentials, downlinks, connect panel
//   #/profiles            device profiles; #/profile/new and #/profile/<uuid> edit one
//   #/onboarding          CSV import with a dry run; pending devices
// A page is an async function (main, params) that fills main and may return a cleanup function
// (to stop its timers); the router calls it when the route changes.

import { isLoggedIn, logout, onSessionEnd, sessionUser } from './api.js';
import { clear, msg } from './dom.js';
import { loginPage } from './page_login.js';
import { fleetPage } from './page_fleet.js';
import { devicePage } from './page_device.js';
import { profilesPage, profilePage } from './page_profiles.js';
import { onboardingPage } from './page_onboard.js';

const UUID = '([0-9a-fA-F-]{36})';
const routes = [
  [/^#\/login$/, loginPage, null],
  [/^#\/?$/, fleetPage, 'fleet'],
  [new RegExp(`^#/device/${UUID}$`), devicePage, 'fleet'],
  [/^#\/profiles$/, profilesPage, 'profiles'],
  [new RegExp(`^#/profile/(new|${UUID.slice(1, -1)})$`), profilePage, 'profiles'],
  [/^#\/onboarding$/, onboardingPage, 'onboarding'],
];

let cleanup = null;
let afterLogin = '#/';
let endNotice = '';
let generation = 0;

function header(nav) {
  const top = document.getElementById('top');
  top.hidden = !isLoggedIn();
  document.getElementById('who').textContent = sessionUser() || '';
  for (const a of top.querySelectorAll('[data-nav]')) {
    a.classList.toggle('current', a.dataset.nav === nav);
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  const gen = ++generation;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      // a page's cleanup never blocks navigation
    }
    cleanup = null;
  }
  let hash = location.hash || '#/';
  if (!isLoggedIn() && hash !== '#/login') {
    afterLogin = hash;
    location.replace('#/login');
    return;
  }
  if (isLoggedIn() && hash === '#/login') {
    hash = '#/';
    location.replace(hash);
    return;
  }
  const main = clear(document.getElementById('app'));
  const found = routes.find(([re]) => re.test(hash));
  if (!found) {
    header(null);
    main.appendChild(msg('err', 'There is no such page.'));
    return;
  }
  const [re, page, nav] = found;
  header(nav);
  const params = hash.match(re).slice(1);
  const ctx = {
    notice: endNotice,
    loggedIn: () => {
      const to = afterLogin;
      afterLogin = '#/';
      location.hash = to === '#/login' ? '#/' : to;
    },
    isCurrent: () => gen === generation,
  };
  endNotice = '';
  try {
    const c = await page(main, params, ctx);
    if (gen === generation) cleanup = typeof c === 'function' ? c : null;
    else if (typeof c === 'function') c();
  } catch (e) {
    if (gen === generation) main.appendChild(msg('err', `This page failed: ${e.message}`));
  }
}

onSessionEnd((reason) => {
  endNotice = reason;
  afterLogin = location.hash || '#/';
  location.hash = '#/login';
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await logout();
  } catch {
    // the tokens are forgotten whatever the gateway answered
  }
  endNotice = 'You are logged out.';
  afterLogin = '#/';
  if (location.hash === '#/login') route();
  else location.hash = '#/login';
});

window.addEventListener('hashchange', route);
route();
