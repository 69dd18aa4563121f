export const docsPage = '<!doctype html><title>Orchard API</title>';
