/** `mamori bulletin …` verbs. Owned by the bulletin area. */
import type { AreaSpec } from '../types.js';
import { notYet } from './_stub.js';

export const area: AreaSpec = {
  name: 'bulletin',
  summary: 'security news: feeds, cross-outlet stories, three-line summaries, publishing',
  verbs: {
    source: notYet('source add|list|remove|import|export', 'mamori bulletin source add <feed-url>'),
    fetch: notYet('fetch all sources', 'mamori bulletin fetch'),
    draft: notYet('draft a bulletin issue', 'mamori bulletin draft [--since 7d]'),
    edit: notYet('edit a draft in $EDITOR', 'mamori bulletin edit <id>'),
    publish: notYet('publish Markdown, HTML and RSS', 'mamori bulletin publish <id>'),
  },
};
