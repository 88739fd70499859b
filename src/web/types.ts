/**
 * What each area contributes to the service: its JSON API under /api/v1/<area> and its
 * dashboard page. Areas' route files live in `routes/<area>.ts` and call only the area's index.ts.
 */
import type { Hono } from 'hono';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Role } from '../access/index.js';
import type { Store } from '../storage/index.js';
import type { AccessConfig } from './guard.js';
import type { Lang } from './ui/i18n.js';

export interface WebDeps {
  store: Store;
  version: string;
  /** Host and Origin allow-lists and cookie flags; in process, http://localhost. */
  access?: AccessConfig;
  /** Where the console publishes bulletin issues (default `$XDG_DATA_HOME/mamori/bulletin`). */
  bulletinDir?: string;
}

/** What a page knows about the request: who asks, in which language, the form token. */
export interface PageCtx {
  lang: Lang;
  role: Role;
  user: string;
  csrf: string;
  query: Record<string, string>;
}

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface AreaWeb {
  name: string;
  title: string;
  summary: string;
  /** Register JSON routes on the /api/v1/<name> sub-app. */
  api?(app: Hono, deps: WebDeps): void;
  /** The dashboard page body for this area (an honest empty state when there is no data). */
  page(deps: WebDeps, ctx?: PageCtx): Promise<Html> | Html;
}
