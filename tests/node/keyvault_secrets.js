// Every @azure/keyvault-secrets operation against azcreds' local Key Vault server, with one
// @azure/identity credential; prints one JSON object of results for the Python test to judge.
//
//   node keyvault_secrets.js app-service            (IDENTITY_ENDPOINT + IDENTITY_HEADER)
//   node keyvault_secrets.js imds [CLIENT_ID]       (AZURE_POD_IDENTITY_AUTHORITY_HOST)
//   node keyvault_secrets.js client-secret          (AZCREDS_TEST_TENANT_ID, _CLIENT_ID,
//                                                    _CLIENT_SECRET, _AUTHORITY)
//
// VAULT_URL names the vault; NODE_EXTRA_CA_CERTS makes Node trust the test CA.
"use strict";

const { ManagedIdentityCredential, ClientSecretCredential } = require("@azure/identity");
const { SecretClient } = require("@azure/keyvault-secrets");

const POLL = { updateIntervalInMs: 10 };

function credentialFor(mode, clientId) {
  if (mode === "app-service") return new ManagedIdentityCredential();
  if (mode === "imds") return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  if (mode === "client-secret") {
    const env = process.env;
    return new ClientSecretCredential(
      env.AZCREDS_TEST_TENANT_ID,
      env.AZCREDS_TEST_CLIENT_ID,
      env.AZCREDS_TEST_CLIENT_SECRET,
      // The authority is on loopback: MSAL must not ask login.microsoftonline.com about it.
      { authorityHost: env.AZCREDS_TEST_AUTHORITY, disableInstanceDiscovery: true },
    );
  }
  throw new Error(`unknown credential mode ${mode}`);
}

async function collect(iterable) {
  const items = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function failure(promise) {
  try {
    await promise;
  } catch (error) {
    return { status: error.statusCode, code: error.code };
  }
  return null;
}

function props(p) {
  return {
    name: p.name,
    version: p.version,
    enabled: p.enabled,
    contentType: p.contentType ?? null,
    tags: p.tags ?? null,
    id: p.id,
  };
}

async function main() {
  const [mode, clientId] = process.argv.slice(2);
  const client = new SecretClient(process.env.VAULT_URL, credentialFor(mode, clientId), {
    // 127.0.0.1 is not under vault.azure.net.
    disableChallengeResourceVerification: true,
  });
  const out = {};

  const first = await client.setSecret("node-secret", "value-1", { contentType: "text/plain", tags: { by: "node" } });
  const second = await client.setSecret("node-secret", "value-2");
  await client.setSecret("node-other", "other");
  out.set = [props(first.properties), props(second.properties)];

  const latest = await client.getSecret("node-secret");
  out.get = { value: latest.value, version: latest.properties.version };
  const old = await client.getSecret("node-secret", { version: first.properties.version });
  out.getVersion = { value: old.value, ...props(old.properties) };

  out.list = (await collect(client.listPropertiesOfSecrets())).map((p) => p.name).sort();
  out.listVersions = (await collect(client.listPropertiesOfSecretVersions("node-secret"))).map((p) => p.version);

  const updated = await client.updateSecretProperties("node-secret", second.properties.version, {
    contentType: "application/json",
    tags: { updated: "yes" },
  });
  out.update = props(updated);

  const disabled = await client.updateSecretProperties("node-other", "", { enabled: false });
  out.disable = { enabled: disabled.enabled, getFails: await failure(client.getSecret("node-other")) };

  const backup = await client.backupSecret("node-secret");
  out.backup = { bytes: backup.length, containsValue: Buffer.from(backup).includes("value-2") };

  const deleting = await client.beginDeleteSecret("node-secret", POLL);
  const deleted = await deleting.pollUntilDone();
  out.delete = {
    name: deleted.name,
    recoveryId: deleted.recoveryId,
    hasDates: Boolean(deleted.deletedOn && deleted.scheduledPurgeDate),
  };
  out.getAfterDelete = await failure(client.getSecret("node-secret"));
  out.getDeleted = { name: (await client.getDeletedSecret("node-secret")).name };
  out.listDeleted = (await collect(client.listDeletedSecrets())).map((d) => d.name);
  out.setWhileDeleted = await failure(client.setSecret("node-secret", "again"));

  const recovering = await client.beginRecoverDeletedSecret("node-secret", POLL);
  out.recover = { name: (await recovering.pollUntilDone()).name };
  out.getAfterRecover = (await client.getSecret("node-secret")).value;

  out.restoreOverExisting = await failure(client.restoreSecretBackup(backup));
  await (await client.beginDeleteSecret("node-secret", POLL)).pollUntilDone();
  out.restoreOverDeleted = await failure(client.restoreSecretBackup(backup));
  await client.purgeDeletedSecret("node-secret");
  out.purge = { getDeletedAfter: await failure(client.getDeletedSecret("node-secret")) };

  const restored = await client.restoreSecretBackup(backup);
  out.restore = props(restored);
  out.restoredVersions = (await collect(client.listPropertiesOfSecretVersions("node-secret"))).map((p) => p.version);
  out.getAfterRestore = (await client.getSecret("node-secret")).value;
  out.restoreTampered = await failure(client.restoreSecretBackup(Uint8Array.from([1, 2, 3])));

  out.notFound = await failure(client.getSecret("never-set"));
  out.notFoundVersion = await failure(client.getSecret("node-secret", { version: "0".repeat(32) }));

  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
