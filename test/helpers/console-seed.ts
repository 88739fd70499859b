/**
 * Data for the console's page tests, stored through the areas' own public APIs: a bulletin with
 * one working local feed (whose titles carry hostile markup) and one missing feed (a failing
 * source), and a draft issue. Hostile strings are the same everywhere so tests can look for them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addSource, draftIssue, fetchAll } from '../../src/bulletin/index.js';
import type { Store } from '../../src/storage/index.js';

export const HOSTILE = {
  script: '<script>alert("x")</script>',
  img: '"><img src=x onerror=alert(1)>',
};

export const BULLETIN_NOW = Date.UTC(2026, 10, 20);

function feed(): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: 'Local desk',
    home_page_url: 'https://local.example/',
    items: [
      {
        id: 'werkzeug',
        url: 'https://local.example/werkzeug',
        title: `Werkzeug parser flaw ${HOSTILE.script}`,
        content_text:
          'Werkzeug fixed CVE-2023-46136, a denial of service in its multipart form parser. An upload that starts with CR or LF followed by megabytes of data makes the parser search a growing buffer again and again. Versions 2.3.8 and 3.0.1 fix the flaw.',
        date_published: '2026-11-18T09:00:00Z',
      },
      {
        id: 'cameras',
        url: 'https://local.example/cameras',
        title: `Botnet scans IP cameras ${HOSTILE.img}`,
        content_text:
          'A new wave of scans targets IP cameras and video recorders that still use factory default passwords. The botnet logs in over Telnet and HTTP and enrols the device for DDoS attacks. Owners should change default passwords and update firmware.',
        date_published: '2026-11-19T09:00:00Z',
      },
    ],
  });
}

/** Two sources (one failing), two stories, one draft issue; returns the draft's id. */
export async function seedBulletin(store: Store, dir: string): Promise<{ issueId: number }> {
  const path = join(dir, 'feed.json');
  writeFileSync(path, feed());
  const at = new Date(BULLETIN_NOW).toISOString();
  await addSource(store.db, path, { name: `Local desk ${HOSTILE.img}`, lang: 'en' }, at);
  await addSource(store.db, join(dir, 'missing-feed.xml'), { name: 'Gone desk', lang: 'en' }, at);
  await fetchAll(store.db, { now: () => BULLETIN_NOW, pages: false });
  const issue = await draftIssue(store.db, BULLETIN_NOW - 7 * 86_400_000, BULLETIN_NOW);
  return { issueId: issue.id };
}
