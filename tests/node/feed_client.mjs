// A city system's client of the event feed in Node.js, built from the .proto files alone with
// @grpc/grpc-js and @grpc/proto-loader (tools/package.json, pinned by its lockfile).
//
// Through the gateway's gRPC face it sets up a community with a member of staff and a rider,
// subscribes to the community's service-record events, has the rider report and staff verify, and
// checks the events arrive once and in order; then it drops the connection, lets more happen, and
// resumes from the cursor it saved: exactly the events after it, none twice. Exits non-zero on the
// first surprise.
//
//   node tests/node/feed_client.mjs        (CP_SUITE_GATEWAY_ADDR, CP_SUITE_ADMIN_PHONE and
//                                           CP_SUITE_ADMIN_PASSWORD name the suite, as under ctest)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'tools', 'package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run under ctest, fixture cp_suite)`);
  return value;
};
const gateway = env('CP_SUITE_GATEWAY_ADDR');

// The contracts; google/protobuf/*.proto from Debian's libprotobuf-dev.
const definition = protoLoader.loadSync(
  [
    'civicpoints/identity/v1/identity_service.proto',
    'civicpoints/activity/v1/activity_service.proto',
    'civicpoints/events/v1/events_service.proto',
  ],
  { includeDirs: [path.join(root, 'protos'), '/usr/include'], keepCase: true, enums: String,
    longs: String,
    defaults: true, oneofs: true });
const loaded = grpc.loadPackageDefinition(definition);
const credentials = grpc.credentials.createInsecure();
const identity = new loaded.civicpoints.identity.v1.IdentityService(gateway, credentials);
const activity = new loaded.civicpoints.activity.v1.ActivityService(gateway, credentials);
const events = new loaded.civicpoints.events.v1.EventService(gateway, credentials);

function fail(message) {
  console.error(`feed_client: ${message}`);
  process.exit(1);
}
function expect(condition, message) {
  if (!condition) fail(message);
}

function metadataFor(token) {
  const md = new grpc.Metadata();
  if (token) md.add('authorization', `Bearer ${token}`);
  return md;
}

// A unary call as a promise.
function call(client, method, request, token = '') {
  return new Promise((resolve, reject) => {
    client[method](request, metadataFor(token), { deadline: Date.now() + 20000 }, (err, resp) => {
      if (err) reject(new Error(`${method}: ${err.code} ${err.details}`));
      else resolve(resp);
    });
  });
}

// The next `n` events of a subscription (heartbeats skipped), or a failure after `ms`.
function nextEvents(reader, n, ms = 20000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`only ${got.length} of ${n} events within ${ms} ms`));
    }, ms);
    const onData = (item) => {
      if (!item.event) return;
      got.push(item.event);
      if (got.length === n) {
        cleanup();
        resolve(got);
      }
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`stream ended: ${err.code} ${err.details}`));
    };
    function cleanup() {
      clearTimeout(timer);
      reader.off('data', onData);
      reader.off('error', onError);
    }
    reader.on('data', onData);
    reader.on('error', onError);
  });
}

const SUBMITTED = 'civicpoints.activity.v1.service_record_submitted';
const VERIFIED = 'civicpoints.activity.v1.service_record_verified';

async function main() {
  const tag = `nd${Date.now() % 100000000}`;
  const phone = (n) => `156${String((Date.now() % 1000000) * 100 + n).padStart(8, '0').slice(-8)}`;
  const admin = (await call(identity, 'Login', {
    phone: env('CP_SUITE_ADMIN_PHONE'), password: env('CP_SUITE_ADMIN_PASSWORD') })).tokens.access_token;

  // A community of its own, a member of staff there, and a rider checked in there.
  const org = async (parent, level, code) => (await call(identity, 'CreateOrgNode', {
    parent_id: parent, level, code, name: `节点${code}` }, admin)).node.org_id;
  const district = await org('root', 'ORG_LEVEL_DISTRICT', `${tag}d`);
  const street = await org(district, 'ORG_LEVEL_STREET', `${tag}s`);
  const community = await org(street, 'ORG_LEVEL_COMMUNITY', `${tag}c`);
  const staffPhone = phone(1);
  const person = (await call(identity, 'CreatePerson', {
    idempotency_key: `${tag}-staff`, phone: staffPhone, display_name: '社工',
    initial_password: 'Initial-pass-1' }, admin)).person;
  await call(identity, 'GrantRole', {
    person_id: person.person_id, role: 'ROLE_COMMUNITY_STAFF', org_id: community }, admin);
  const first = (await call(identity, 'Login', { phone: staffPhone, password: 'Initial-pass-1' }))
    .tokens.access_token;
  const staff = (await call(identity, 'ChangePassword', {
    idempotency_key: `${tag}-pw`, current_password: 'Initial-pass-1',
    new_password: 'Staff-pass-2026' }, first)).tokens.access_token;
  const code = (await call(identity, 'GetCheckInCode', { org_id: community }, admin)).code.code;
  const policy = await call(identity, 'GetPrivacyPolicy', {});
  const rider = (await call(identity, 'RegisterRider', {
    idempotency_key: `${tag}-rider`, phone: phone(2), password: 'Rider-pass-2026',
    display_name: '骑手', check_in_code: code,
    consent: { policy_version: policy.policy_version, purposes: [
      'CONSENT_PURPOSE_ACCOUNT', 'CONSENT_PURPOSE_COMMUNITY_SERVICE',
      'CONSENT_PURPOSE_POINTS_AND_RANKINGS', 'CONSENT_PURPOSE_AGGREGATE_STATISTICS'] } }))
    .tokens.access_token;

  const reportAndVerify = async (key) => {
    const record = (await call(activity, 'SubmitServiceRecord', {
      idempotency_key: key, service_record: {
        kind: 'SERVICE_RECORD_KIND_ROAD_OCCUPATION', description: '占道经营',
        location: { latitude: 40.0937, longitude: 113.2956 }, community_id: community } }, rider))
      .service_record.service_record_id;
    await call(activity, 'VerifyServiceRecord', { service_record_id: record }, staff);
    return record;
  };
  const subscribe = (after) => events.Subscribe({
    types: [SUBMITTED, VERIFIED], org_id: community, after, from_oldest: !after,
    heartbeat_interval: { seconds: 1 } }, metadataFor(staff));

  // Live: both events of the record, in order, once.
  const stream = subscribe('');
  const firstRecord = await reportAndVerify(`${tag}-r1`);
  const got = await nextEvents(stream, 2);
  expect(got[0].type === SUBMITTED && got[1].type === VERIFIED,
    `expected submitted then verified, got ${got.map((e) => e.type)}`);
  for (const e of got) {
    expect(e.subject === `service-records/${firstRecord}`, `unexpected subject ${e.subject}`);
    expect(e.org_path.community_id === community, `event outside the community: ${e.id}`);
  }
  expect(got[0].id !== got[1].id, 'two events with one id');
  const saved = got[1].cursor;
  stream.on('error', () => {});  // the cancellation ends it with CANCELLED
  stream.cancel();

  // Disconnected while two more records happen; resuming from the saved cursor gives exactly their
  // four events, in order, none of the first record's again.
  const second = await reportAndVerify(`${tag}-r2`);
  const third = await reportAndVerify(`${tag}-r3`);
  const resumed = subscribe(saved);
  const after = await nextEvents(resumed, 4);
  const seen = after.map((e) => `${e.type === SUBMITTED ? 'submitted' : 'verified'} ${e.subject}`);
  const want = [
    `submitted service-records/${second}`, `verified service-records/${second}`,
    `submitted service-records/${third}`, `verified service-records/${third}`];
  expect(JSON.stringify(seen) === JSON.stringify(want),
    `resumed with ${JSON.stringify(seen)}, expected ${JSON.stringify(want)}`);
  const ids = new Set([...got, ...after].map((e) => e.id));
  expect(ids.size === 6, 'an event arrived twice');
  // Nothing more is due: the next item within 2.5 s is a heartbeat, not an event.
  await nextEvents(resumed, 1, 2500).then(
    (extra) => fail(`an unexpected event after the resume: ${extra[0].type} ${extra[0].subject}`),
    () => {});
  resumed.on('error', () => {});
  resumed.cancel();
  console.log('feed_client: 6 events once and in order, resumed from a saved cursor');
  process.exit(0);
}

main().catch((err) => fail(err.message));
