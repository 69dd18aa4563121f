export { type MergedEntry, MergedStore } from './merged-store.ts';
export { virtualRoutes } from './routes.ts';
export { IndexMerger, membersOf } from './virtual.ts';
