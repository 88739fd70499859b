/**
 * The bulletin area's public surface: feeds in, stories out, issues published. The CLI, the
 * web routes and other areas import only this file.
 */

export { type ParsedFeed, parseFeed } from './core/feed.js';
export {
  type InventoryHit,
  type Issue,
  type IssueItem,
  inventoryLine,
  issueJson,
  renderHtml,
  renderMarkdown,
  STANDING_HEADER,
} from './core/render.js';
export { sanitizeHtml, unsafeReasons } from './core/sanitize.js';
export { tagsOf } from './core/summarize.js';
export { extractIds, keyFigures } from './core/text.js';
export { extractArticle } from './extract.js';
export { FEED_LIMITS, type FetchLimits, PAGE_LIMITS } from './feeds.js';
export {
  draftIssue,
  getIssue,
  listIssues,
  MAX_COMMENTARY,
  parseSince,
  publishIssue,
  saveEditedMarkdown,
  setCommentary,
} from './issue.js';
export { type CrossLinks, storeLinks } from './links.js';
export { type FetchOptions, type FetchReport, fetchAll, type SourceOutcome } from './pipeline.js';
export {
  addSource,
  exportOpml,
  importOpml,
  listSources,
  removeSource,
  type Source,
} from './store.js';
export { listStories, type StorySummary } from './stories.js';
