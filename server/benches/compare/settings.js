// Node-RED for the comparison: no editor, no credentials, no log lines per message.
module.exports = {
  uiPort: 1880,
  uiHost: "127.0.0.1",
  httpAdminRoot: false,
  httpNodeRoot: "/",
  credentialSecret: false,
  logging: { console: { level: "warn", metrics: false, audit: false } },
  editorTheme: { tours: false },
  functionExternalModules: false,
};
