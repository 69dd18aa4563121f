import { hostedApiRoutes } from './api/index.ts';
import { cacheRoutes } from './cache/routes.ts';
import { blobGcRoutes } from './gc/index.ts';
import type { RouteModule } from './http/app.ts';
import { systemRoutes } from './http/system-routes.ts';
import { registryRoutes } from './registry/index.ts';
import { virtualRoutes } from './virtual/index.ts';

/** Every API surface the proxy serves, in mount order. Adding a surface means adding a line here. */
export const routeModules: RouteModule[] = [
  systemRoutes,
  cacheRoutes,
  hostedApiRoutes,
  registryRoutes,
  virtualRoutes,
  blobGcRoutes,
];
