export { createRouter, DEFAULT_TIMEOUT_MS, type Router, type RouterOptions } from './api/router.ts';
export { VERSION } from './version.ts';
