/** The bulletin area's dashboard page and JSON API. Owned by the bulletin area. */

import type { AreaWeb } from '../types.js';
import { emptyState } from '../ui/layout.js';

export const bulletinWeb: AreaWeb = {
  name: 'bulletin',
  title: 'Bulletin',
  summary: 'Security news from many outlets, one story each, with a three-line summary.',
  page: () =>
    emptyState('No feeds and no bulletin issues yet.', 'mamori bulletin source add <feed-url>'),
};
