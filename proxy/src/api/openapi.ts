export function openApiDocument(): Record<string, unknown> {
  return { openapi: '3.1.0', info: { title: 'Orchard', version: '0.1.0' }, paths: {} };
}
