// Loopback-only network guard for Node.js, loaded with `node --require loopback_guard.cjs`.
//
// The JavaScript twin of azcreds.testing.network_guard: every TCP/TLS connection and every name
// lookup is checked before a packet leaves. Allowed: 127.0.0.0/8, ::1, the name "localhost" and
// Unix socket paths. Anything else (IMDS at 169.254.169.254, private ranges, any other host name)
// throws an error with code ENONLOOPBACK. Client code may catch the error and carry on, so each
// refusal is also reported as one JSON line: appended to the file named by AZCREDS_NODE_GUARD_LOG
// when that is set, and always written to stderr after the marker "azcreds-loopback-guard: ", for
// the Python side to read back (the file may not be there: an env-cleaning parent can drop it).
"use strict";
const net = require("net");
const dns = require("dns");
const fs = require("fs");

const LOG = process.env.AZCREDS_NODE_GUARD_LOG || "";

function isAllowedHost(host) {
  if (host === undefined || host === null || host === "") return true; // Node's default: localhost
  let h = String(host).toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (h.startsWith("::ffff:")) h = h.slice(7);
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && Number(m[1]) === 127 && m.slice(2).every((x) => Number(x) <= 255);
}

function refuse(kind, host, port) {
  const record = { kind, host: String(host), port: port === undefined ? null : Number(port) };
  const line = JSON.stringify(record);
  try {
    fs.writeSync(2, `azcreds-loopback-guard: ${line}\n`);
  } catch (_e) {
    // stderr closed: the file below, and the thrown error, still report it
  }
  if (LOG) {
    try {
      fs.appendFileSync(LOG, line + "\n");
    } catch (_e) {
      // the refusal itself still throws
    }
  }
  const err = new Error(`azcreds loopback guard: ${kind} to ${record.host}:${record.port} refused`);
  err.code = "ENONLOOPBACK";
  return err;
}

const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  let opts;
  if (Array.isArray(args[0])) opts = args[0][0];
  else if (args[0] !== null && typeof args[0] === "object") opts = args[0];
  else if (typeof args[0] === "string" && Number.isNaN(Number(args[0]))) opts = { path: args[0] };
  else opts = { port: args[0], host: typeof args[1] === "string" ? args[1] : undefined };
  if (!opts.path && !isAllowedHost(opts.host)) {
    const err = refuse("connect", opts.host, opts.port);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return realConnect.apply(this, args);
};

function guardLookup(realFn, kind) {
  return function guarded(host, ...rest) {
    if (!isAllowedHost(host)) {
      const err = refuse(kind, host, undefined);
      const cb = rest.find((x) => typeof x === "function");
      if (cb) {
        process.nextTick(() => cb(err));
        return undefined;
      }
      throw err;
    }
    return realFn.call(this, host, ...rest);
  };
}

for (const name of ["lookup", "resolve", "resolve4", "resolve6", "resolveAny", "resolveCname", "resolveSrv", "resolveTxt"]) {
  if (typeof dns[name] === "function") dns[name] = guardLookup(dns[name], `dns.${name}`);
  if (dns.promises && typeof dns.promises[name] === "function") {
    const realP = dns.promises[name];
    dns.promises[name] = async function guardedP(host, ...rest) {
      if (!isAllowedHost(host)) throw refuse(`dns.promises.${name}`, host, undefined);
      return realP.call(this, host, ...rest);
    };
  }
}
