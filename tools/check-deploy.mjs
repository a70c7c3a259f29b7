// Offline checks of the deployment files against the built binaries (run by
// scripts/check-deploy.sh, which `make test` runs through ctest as deploy_check).
//
//   node tools/check-deploy.mjs <repo dir> <build dir>
//
// The binaries' `--help` is the truth: it lists every setting with its CP_ variable, its default
// (the ports among them) and whether it is required. Checked against it:
//   deploy/Dockerfile   Debian 12 stages, a non-root USER, per service: EXPOSEd ports, a
//                       HEALTHCHECK with cp_probe on the gRPC port, the ENTRYPOINT binary.
//   deploy/compose.yaml every CP_ variable is one the binary takes, required ones are set, ports,
//                       health checks, addresses of the services/PostgreSQL/Redis, start order,
//                       volumes.
//   k8s/overlays/*      renders with `kubectl kustomize`; every object validates against the
//                       Kubernetes schemas of kubernetes-models and has no field unknown to
//                       them; container ports, gRPC probes,
//                       Service targetPorts and NetworkPolicy ports are ports the pods use; env
//                       names and ConfigMap keys; non-root, read-only root, resources; no Secrets.
// Exits 1 after printing every problem, each naming its file and object.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";

const SERVICES = ["identity", "activity", "ledger", "rewards", "events", "gateway"];
const DB_SERVICES = ["identity", "activity", "ledger", "rewards", "events"]; // take CP_PG_URL and migrate

const [repo, buildDir] = process.argv.slice(2);
if (!repo || !buildDir) {
  console.error("usage: node tools/check-deploy.mjs <repo dir> <build dir>");
  process.exit(2);
}

const problems = [];
let checks = 0;
function check(ok, where, message) {
  checks++;
  if (!ok) problems.push(`${where}: ${message}`);
  return ok;
}

// --- what the binaries accept --------------------------------------------------------------------
// settings[service] = Map(CP_NAME -> {def, required}); ports[service] = {grpc, metrics, http?}.
const settings = {};
const ports = {};
for (const s of SERVICES) {
  const bin = path.join(buildDir, "services", s, `civicpoints-${s}`);
  if (!existsSync(bin)) {
    console.error(`check-deploy: ${bin} is missing; build first (make build)`);
    process.exit(1);
  }
  const help = execFileSync(bin, ["--help"], { encoding: "utf8" });
  const m = new Map();
  for (const line of help.split("\n")) {
    const r = line.match(/^\s+--\S+\s+(CP_[A-Z0-9_]+)\s+\[(.*)\](\s+required)?\s*$/);
    if (r) m.set(r[1], { def: r[2], required: Boolean(r[3]) });
  }
  if (!m.has("CP_GRPC_PORT") || !m.has("CP_METRICS_PORT")) {
    console.error(`check-deploy: could not read the settings from ${bin} --help`);
    process.exit(1);
  }
  settings[s] = m;
  ports[s] = { grpc: Number(m.get("CP_GRPC_PORT").def), metrics: Number(m.get("CP_METRICS_PORT").def) };
  // The gateway also serves REST/JSON on its own port.
  if (m.has("CP_HTTP_PORT")) ports[s].http = Number(m.get("CP_HTTP_PORT").def);
}
// Every port a service listens on, sorted.
const listensOn = (s) => [ports[s].grpc, ports[s].metrics, ports[s].http].filter((p) => p !== undefined).sort();
const migrateAccepts = new Set(DB_SERVICES.flatMap((s) => [...settings[s].keys()]));
const requiredOf = (s) => [...settings[s]].filter(([, v]) => v.required).map(([k]) => k);
// Where each service is reached from the others: CP_<SERVICE>_ADDR names its compose service or
// Kubernetes Service and its gRPC port.
const addrs = Object.fromEntries(SERVICES.map((s) => [`CP_${s.toUpperCase()}_ADDR`, `${s}:${ports[s].grpc}`]));
// The address settings a binary takes with a default (a loopback address, which reaches nothing in
// a container or pod): a deployment must set each one, or the calls and deliveries behind it fail.
const addrsToSet = (s) => Object.keys(addrs).filter((k) => settings[s].get(k)?.def);

// --- deploy/Dockerfile ---------------------------------------------------------------------------
function checkDockerfile(file) {
  const where = path.relative(repo, file);
  const lines = readFileSync(file, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages = new Map();
  let cur = null;
  for (const line of lines) {
    const [instr, ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    switch (instr.toUpperCase()) {
      case "FROM": {
        const r = args.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i);
        const from = r[1];
        const parent = stages.get(from);
        check(parent || /^debian:(12|bookworm)([-.][\w.-]*)?$/.test(from), where,
          `FROM ${from}: stages must be Debian 12 (debian:12, debian:12-slim, debian:bookworm...)`);
        cur = { name: r[2] || from, from, user: parent?.user, expose: [], healthcheck: parent?.healthcheck,
                entrypoint: parent?.entrypoint, env: [...(parent?.env || [])] };
        stages.set(cur.name, cur);
        break;
      }
      case "USER": cur.user = args; break;
      case "EXPOSE": cur.expose.push(...args.split(/\s+/).map((p) => Number(p.split("/")[0]))); break;
      case "HEALTHCHECK": cur.healthcheck = args; break;
      case "ENTRYPOINT": cur.entrypoint = args; break;
      case "ENV": for (const m of args.matchAll(/(\w+)=/g)) cur.env.push(m[1]); break;
    }
  }
  const nonRoot = (u) => u && !/^(root|0)(:|$)/.test(u);
  for (const s of SERVICES) {
    const st = stages.get(s);
    if (!check(st, where, `no build stage named ${s}`)) continue;
    check(nonRoot(st.user), where, `stage ${s}: runs as root (needs a USER that is not root)`);
    const want = listensOn(s);
    check(JSON.stringify([...st.expose].sort()) === JSON.stringify(want), where,
      `stage ${s}: EXPOSE ${st.expose.join(" ")} but civicpoints-${s} listens on ${want.join(" ")}`);
    check(st.healthcheck && /cp_probe/.test(st.healthcheck) && /\bhealth\b/.test(st.healthcheck) &&
          st.healthcheck.includes(`:${ports[s].grpc}"`), where,
      `stage ${s}: HEALTHCHECK must run cp_probe health on port ${ports[s].grpc}`);
    check(st.entrypoint && st.entrypoint.includes(`civicpoints-${s}"`), where,
      `stage ${s}: ENTRYPOINT must start civicpoints-${s}`);
    for (const e of st.env.filter((e) => e.startsWith("CP_")))
      check(settings[s].has(e), where, `stage ${s}: ENV ${e} is not a setting of civicpoints-${s}`);
  }
  const mig = stages.get("migrate");
  if (check(mig, where, "no build stage named migrate"))
    check(nonRoot(mig.user), where, "stage migrate: runs as root (needs a USER that is not root)");
}

// --- deploy/compose.yaml -------------------------------------------------------------------------
function envMap(env) {
  if (!env) return {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((e) => [e.split("=")[0], e.includes("=") ? e.slice(e.indexOf("=") + 1) : ""]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? "" : String(v)]));
}
const containerPortOf = (p) => Number(String(typeof p === "object" ? p.target : p).split(":").pop().split("/")[0]);

function checkCompose(file) {
  const where = path.relative(repo, file);
  let doc;
  try {
    doc = parse(readFileSync(file, "utf8"), { merge: true });
  } catch (e) {
    check(false, where, `does not parse: ${e.message}`);
    return;
  }
  const svcs = doc.services || {};
  const volumes = doc.volumes || {};
  for (const name of ["postgres", "redis"]) {
    if (check(svcs[name], where, `no ${name} service`))
      check(svcs[name].healthcheck?.test, where, `${name}: needs a healthcheck (the services wait for it)`);
  }
  for (const [name, svc] of Object.entries(svcs)) {
    for (const v of svc.volumes || []) {
      const src = String(typeof v === "object" ? v.source : v).split(":")[0];
      if (!src.startsWith(".") && !src.startsWith("/"))
        check(src in volumes, where, `${name}: volume ${src} is not declared under volumes:`);
    }
    const deps = svc.depends_on || {};
    check(!Array.isArray(deps), where, `${name}: depends_on must name a condition for each dependency`);
    for (const [dep, how] of Object.entries(Array.isArray(deps) ? {} : deps)) {
      check(dep in svcs, where, `${name}: depends on unknown service ${dep}`);
      check(["service_healthy", "service_completed_successfully"].includes(how?.condition), where,
        `${name}: depends_on ${dep} must wait for service_healthy or service_completed_successfully`);
    }
  }
  const checkAddrs = (name, env) => {
    for (const [k, addr] of Object.entries(addrs))
      if (k in env)
        check(env[k] === addr, where, `${name}: ${k}=${env[k]} but ${addr.split(":")[0]} serves gRPC at ${addr}`);
    if ("CP_REDIS_ADDR" in env)
      check(env.CP_REDIS_ADDR === "redis:6379", where, `${name}: CP_REDIS_ADDR must be redis:6379 (the redis service)`);
    if ("CP_PG_URL" in env)
      check(/@postgres:5432\//.test(env.CP_PG_URL), where, `${name}: CP_PG_URL must point at postgres:5432`);
  };
  for (const s of SERVICES) {
    const svc = svcs[s];
    if (!check(svc, where, `no ${s} service`)) continue;
    const env = envMap(svc.environment);
    for (const k of Object.keys(env).filter((k) => k.startsWith("CP_")))
      check(settings[s].has(k), where, `${s}: ${k} is not a setting of civicpoints-${s} (see its --help)`);
    for (const k of requiredOf(s)) check(k in env, where, `${s}: required setting ${k} is not set`);
    for (const k of addrsToSet(s))
      check(k in env, where, `${s}: ${k} is not set (its default ${settings[s].get(k).def} is not ${addrs[k]})`);
    const grpc = Number(env.CP_GRPC_PORT ?? ports[s].grpc);
    const metrics = Number(env.CP_METRICS_PORT ?? ports[s].metrics);
    check(grpc === ports[s].grpc, where, `${s}: CP_GRPC_PORT ${grpc}, but civicpoints-${s} listens on ${ports[s].grpc}`);
    check(metrics === ports[s].metrics, where, `${s}: CP_METRICS_PORT ${metrics}, but civicpoints-${s} serves metrics on ${ports[s].metrics}`);
    check(env.CP_LISTEN_HOST === "0.0.0.0", where, `${s}: CP_LISTEN_HOST must be 0.0.0.0 in a container`);
    const hc = [].concat(svc.healthcheck?.test || []).join(" ");
    check(/cp_probe health/.test(hc) && hc.endsWith(`:${grpc}`), where,
      `${s}: healthcheck must be cp_probe health on gRPC port ${grpc}, not "${hc}"`);
    for (const p of svc.ports || [])
      check([grpc, metrics, ports[s].http].includes(containerPortOf(p)), where,
        `${s}: publishes container port ${containerPortOf(p)}, which ${s} does not listen on`);
    check(svc.build?.target === s, where, `${s}: build target must be ${s}`);
    check(svc.read_only === true, where, `${s}: read_only must be true`);
    checkAddrs(s, env);
  }
  const pub = SERVICES.filter((s) => s !== "gateway" && (svcs[s]?.ports || []).length);
  check(pub.length === 0, where, `only the gateway may publish ports, not ${pub.join(", ")}`);
  const mig = svcs.migrate;
  if (check(mig, where, "no migrate service (the one-shot migration step)")) {
    const env = envMap(mig.environment);
    for (const k of Object.keys(env).filter((k) => k.startsWith("CP_")))
      check(migrateAccepts.has(k), where, `migrate: ${k} is not a setting of the services it migrates`);
    for (const k of new Set(DB_SERVICES.flatMap(requiredOf)))
      check(k in env, where, `migrate: required setting ${k} is not set`);
    check(mig.build?.target === "migrate", where, "migrate: build target must be migrate");
    checkAddrs("migrate", env);
    for (const s of SERVICES.filter((s) => s !== "gateway"))
      check(svcs[s]?.depends_on?.migrate?.condition === "service_completed_successfully", where,
        `${s}: must wait for migrate to complete`);
  }
}

// --- Kubernetes ----------------------------------------------------------------------------------
const modelCache = new Map();
async function validateObject(obj) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (!modelCache.has(key)) {
    try {
      const mod = await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`);
      modelCache.set(key, mod[obj.kind]);
    } catch {
      modelCache.set(key, null);
    }
  }
  const Model = modelCache.get(key);
  if (!Model) return `apiVersion ${obj.apiVersion} kind ${obj.kind} is not in the schemas`;
  try {
    new Model(obj).validate();
    return null;
  } catch (e) {
    return e.message;
  }
}

// kubernetes-models' schemas accept unknown fields (a server applying with strict field
// validation refuses them), so the field names are also checked, against the property lists of
// the package's type declarations (.d.ts), which are generated from the same OpenAPI.
const modelsDir = path.join(path.dirname(new URL(import.meta.url).pathname), "node_modules");
const declCache = new Map();
function declaration(file) {
  if (declCache.has(file)) return declCache.get(file);
  let decl = null;
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8");
    const imports = new Map();
    for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
      const spec = m[2].replace(/\.js$/, "");
      imports.set(m[1], spec.startsWith(".") ? path.resolve(path.dirname(file), spec + ".d.ts")
                                             : path.join(modelsDir, spec + ".d.ts"));
    }
    const body = text.match(/^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m);
    if (body) {
      decl = new Map();
      // A property on one line; a type that opens a literal ({ [key: string]: ... }) is a leaf.
      for (const m of body[1].matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
        const ref = m[2].match(/^(?:Array<)?(I\w+)>?$/);
        decl.set(m[1], ref && imports.has(ref[1]) ? imports.get(ref[1]) : null);
      }
    }
  }
  declCache.set(file, decl);
  return decl;
}
function unknownFields(value, file, at, out) {
  const decl = file && declaration(file);
  if (!decl || value === null || typeof value !== "object") return out;
  for (const item of Array.isArray(value) ? value : [value]) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) continue;
    for (const [k, v] of Object.entries(item)) {
      if (!decl.has(k)) out.push(`${at}.${k}`);
      else unknownFields(v, decl.get(k), `${at}.${k}`, out);
    }
  }
  return out;
}
const declFile = (o) => path.join(modelsDir, "kubernetes-models", o.apiVersion, `${o.kind}.d.ts`);

const matches = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);
function selects(sel, labels) {
  if (!sel) return false;
  return matches(sel.matchLabels, labels) &&
    (sel.matchExpressions || []).every((e) =>
      e.operator === "In" ? e.values.includes(labels?.[e.key]) :
      e.operator === "NotIn" ? !e.values.includes(labels?.[e.key]) :
      e.operator === "Exists" ? e.key in (labels || {}) : !(e.key in (labels || {})));
}

async function checkOverlay(dir) {
  const where = path.relative(repo, dir);
  let out;
  try {
    out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const why = String(e.stderr || e.message).split("\n").filter((l) => l && !l.startsWith("# Warning")).join(" ");
    check(false, where, `does not render with kubectl kustomize: ${why}`);
    return;
  }
  checks++;
  const objs = parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
  for (const o of objs) {
    const err = await validateObject(o);
    check(!err, where, `${o.kind}/${o.metadata?.name}: fails schema validation: ${err}`);
    if (!err) {
      const unknown = unknownFields(o, declFile(o), "", []);
      check(!unknown.length, where, `${o.kind}/${o.metadata?.name}: unknown fields ${unknown.join(", ")}`);
    }
    check(o.kind !== "Secret", where, `${o.kind}/${o.metadata?.name}: secrets must not be committed`);
  }
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const config = Object.assign({}, ...byKind("ConfigMap").map((c) => ({ [c.metadata.name]: c.data || {} })));
  const workloads = [...byKind("Deployment"), ...byKind("StatefulSet"), ...byKind("Job")];
  const podLabels = (w) => w.spec.template.metadata?.labels || {};
  const containerPorts = (w) => w.spec.template.spec.containers.flatMap((c) => c.ports || []);

  for (const w of workloads) {
    const pod = w.spec.template.spec;
    const id = `${w.kind}/${w.metadata.name}`;
    for (const c of pod.containers) {
      const svc = SERVICES.includes(c.name) ? c.name : c.name === "migrate" ? "migrate" : null;
      if (!svc) continue;
      const cid = `${id} container ${c.name}`;
      const image = c.image.split("/").pop().replace(/[:@].*$/, "");
      check(image === svc, where, `${cid}: runs image ${c.image}, not the ${svc} image`);
      const accepts = svc === "migrate" ? migrateAccepts : new Set(settings[svc].keys());
      const env = {};
      for (const e of c.env || []) {
        if (e.name.startsWith("CP_"))
          check(accepts.has(e.name), where, `${cid}: ${e.name} is not a setting of civicpoints-${svc}`);
        const ref = e.valueFrom?.configMapKeyRef;
        if (ref) {
          const has = config[ref.name] && ref.key in config[ref.name];
          check(has || ref.optional, where, `${cid}: ${e.name} refers to missing ConfigMap key ${ref.name}/${ref.key}`);
          env[e.name] = has ? String(config[ref.name][ref.key]) : undefined;
        } else {
          env[e.name] = e.valueFrom ? "(from a Secret)" : String(e.value ?? "");
        }
      }
      const required = svc === "migrate" ? [...new Set(DB_SERVICES.flatMap(requiredOf))] : requiredOf(svc);
      for (const k of required) check(k in env, where, `${cid}: required setting ${k} is not set`);
      if (svc !== "migrate")
        for (const k of addrsToSet(svc))
          check(k in env, where, `${cid}: ${k} is not set (its default ${settings[svc].get(k).def} is not ${addrs[k]})`);
      for (const [k, addr] of Object.entries(addrs))
        if (k in env)
          check(env[k] === addr, where, `${cid}: ${k}=${env[k]} but ${addr.split(":")[0]} serves gRPC at ${addr}`);
      const sc = { ...pod.securityContext, ...c.securityContext };
      check(sc.runAsNonRoot === true, where, `${cid}: must set runAsNonRoot`);
      check(c.securityContext?.readOnlyRootFilesystem === true, where, `${cid}: root filesystem must be read-only`);
      check(c.resources?.requests && c.resources?.limits, where, `${cid}: needs resource requests and limits`);
      if (svc === "migrate") continue;
      const want = ports[svc];
      const cps = (c.ports || []).map((p) => p.containerPort).sort();
      check(JSON.stringify(cps) === JSON.stringify(listensOn(svc)), where,
        `${cid}: containerPorts ${cps.join(", ")} but civicpoints-${svc} listens on ${listensOn(svc).join(", ")}`);
      check(Number(env.CP_GRPC_PORT ?? want.grpc) === want.grpc, where, `${cid}: CP_GRPC_PORT is not ${want.grpc}`);
      check(Number(env.CP_METRICS_PORT ?? want.metrics) === want.metrics, where, `${cid}: CP_METRICS_PORT is not ${want.metrics}`);
      check(env.CP_LISTEN_HOST === "0.0.0.0", where, `${cid}: CP_LISTEN_HOST must be 0.0.0.0`);
      for (const kind of ["readinessProbe", "livenessProbe", "startupProbe"]) {
        const p = c[kind];
        if (kind !== "startupProbe" && !check(p, where, `${cid}: no ${kind}`)) continue;
        if (!p) continue;
        if (!check(p.grpc, where, `${cid}: ${kind} must be a native grpc probe`)) continue;
        check(p.grpc.port === want.grpc, where,
          `${cid}: ${kind} probes port ${p.grpc.port} but ${svc} serves gRPC health on ${want.grpc}`);
      }
    }
  }

  for (const s of byKind("Service")) {
    const id = `Service/${s.metadata.name}`;
    if (!s.spec.selector) continue; // an external service (prod PostgreSQL, Redis)
    const targets = workloads.filter((w) => matches(s.spec.selector, podLabels(w)));
    if (!check(targets.length, where, `${id}: selects no pods`)) continue;
    for (const p of s.spec.ports) {
      const tp = p.targetPort ?? p.port;
      for (const w of targets) {
        const cp = containerPorts(w).find((c) => (typeof tp === "number" ? c.containerPort === tp : c.name === tp));
        if (check(cp, where, `${id}: port ${p.name || p.port} targets ${tp}, which ${w.kind}/${w.metadata.name} does not expose`))
          check(cp.containerPort === p.port, where,
            `${id}: port ${p.port} forwards to ${cp.containerPort}; keep them equal (addresses use ${p.port})`);
      }
    }
  }

  for (const h of byKind("HorizontalPodAutoscaler"))
    check(byKind("Deployment").some((d) => d.metadata.name === h.spec.scaleTargetRef.name), where,
      `HorizontalPodAutoscaler/${h.metadata.name}: scales unknown Deployment ${h.spec.scaleTargetRef.name}`);
  for (const b of byKind("PodDisruptionBudget"))
    check(workloads.some((w) => selects(b.spec.selector, podLabels(w))), where,
      `PodDisruptionBudget/${b.metadata.name}: selects no pods`);

  // NetworkPolicy ports must be ports the pods in question listen on.
  const portsOf = (sel) => {
    const ws = workloads.filter((w) => selects(sel, podLabels(w)));
    return { ws, ports: new Set(ws.flatMap((w) => containerPorts(w).map((c) => c.containerPort))) };
  };
  for (const np of byKind("NetworkPolicy")) {
    const id = `NetworkPolicy/${np.metadata.name}`;
    const own = portsOf(np.spec.podSelector);
    check(Object.keys(np.spec.podSelector || {}).length === 0 || own.ws.length, where, `${id}: selects no pods`);
    for (const rule of np.spec.ingress || [])
      for (const p of rule.ports || [])
        check(own.ports.has(p.port), where, `${id}: allows ingress on port ${p.port}, which its pods do not listen on`);
    for (const rule of np.spec.egress || []) {
      for (const peer of rule.to || []) {
        const dns = peer.podSelector?.matchLabels?.["k8s-app"] === "kube-dns";
        if (dns) {
          check(Object.keys(peer.podSelector.matchLabels).length === 1, where,
            `${id}: the kube-dns selector carries other labels, so DNS would be blocked`);
          continue;
        }
        if (!peer.podSelector || peer.namespaceSelector) continue;
        const dest = portsOf(peer.podSelector);
        if (!check(dest.ws.length, where, `${id}: egress to pods that do not exist`)) continue;
        for (const p of rule.ports || [])
          check(dest.ports.has(p.port), where, `${id}: allows egress to port ${p.port}, which the destination does not listen on`);
      }
    }
  }
  check(workloads.some((w) => w.kind === "Job"), where, "no migration Job");
  for (const s of SERVICES)
    check(byKind("Deployment").some((d) => d.metadata.name === s), where, `no Deployment ${s}`);
}

checkDockerfile(path.join(repo, "deploy/Dockerfile"));
checkCompose(path.join(repo, "deploy/compose.yaml"));
const overlays = path.join(repo, "k8s/overlays");
const names = readdirSync(overlays).filter((n) => existsSync(path.join(overlays, n, "kustomization.yaml")));
check(names.includes("dev") && names.includes("prod"), "k8s/overlays", "needs dev and prod overlays");
for (const n of names) await checkOverlay(path.join(overlays, n));

for (const p of problems) console.error(`check-deploy: ${p}`);
console.log(`check-deploy: ${checks - problems.length} passed, ${problems.length} failed`);
process.exit(problems.length ? 1 : 0);
