/**
 * Guard: an IPS/WAF in front of web servers. This file is the area's whole public surface.
 * Today: libinjection-compatible SQLi and XSS detection (`detectSqli`, `detectXss`).
 */
export { Html5State } from './core/html5.js';
export { toByteString } from './core/sqli.js';
export { detectSqli, fingerprint, isSqli } from './core/sqli-fold.js';
export { detectXss } from './core/xss.js';
