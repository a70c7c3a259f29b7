// The page's words in Chinese (the default) and English. t(key, values) fills {name} slots. Enum
// values (record kinds, statuses) are labelled by the suite's catalogue (GET /v1/labels), loaded
// for the page's language (setLabels); t() falls back to them.
const WORDS = {
  zh: {
    title: '骑手积分 · 街区看板', signOut: '退出', signInTitle: '登录', phone: '手机号',
    password: '密码', signIn: '登录', from: '从', to: '到', apply: '查看', exportCsv: '导出 CSV',
    otherLanguage: 'English', chartPoints: '每日积分发放与兑换', chartChildren: '下级节点',
    chartBacklog: '待审核服务记录', chartCoverage: '驿站与爱心角覆盖', childrenTitle: '下级节点一览',
    topTitle: '本月排行前 15', giftsTitle: '礼品兑换', stationsTitle: '驿站兑换',
    ridersRegistered: '注册骑手', ridersCheckedIn: '入驻骑手', ridersActive: '30 天活跃骑手',
    postSeatsFilled: '在岗治理岗位', postsOpen: '开放岗位 {n} 个', activitiesHeld: '举办活动',
    attendancesConfirmed: '活动参与人次', reviewBacklog: '待审核服务记录',
    waitingSince: '最久已等 {n} 天', pointsIssued: '发放积分', pointsRedeemed: '兑换积分',
    pointsOutstanding: '未兑换积分', giftsHandedOut: '发放礼品', riderStations: '骑手驿站',
    loveCorners: '爱心角', coverage: '覆盖社区', name: '名称', rank: '名次', riderName: '骑手',
    score: '积分', gift: '礼品', station: '驿站', items: '件数', pointsSpent: '积分',
    issued: '发放', redeemed: '兑换', stations: '驿站', corners: '爱心角', backlog: '待审核',
    checkedIn: '入驻骑手',
    ruleApplied: '为保护骑手隐私，1 至 {m} 的人数显示为“<{n}”（小格保护；同组仅一格被隐去时，另隐去一格）。',
    ruleExact: '您是本节点工作人员，看到的是精确数字。',
    expired: '登录已过期，请重新登录；登录后回到刚才的节点。',
    forbidden: '您无权查看该节点（{id}）：它不在您的管辖范围内。', failed: '加载失败：{message}',
    badLogin: '手机号或密码不正确。', mustChange: '该账号须先修改初始密码，请在 App 中修改后再登录。',
    noNodes: '您的账号没有可查看的节点。', loading: '加载中…', none: '暂无',
    recordsTitle: '服务记录（按类型与状态）', kind: '类型', status: '状态', count: '条数',
  },
  en: {
    title: 'Civic Points · District dashboard', signOut: 'Sign out', signInTitle: 'Sign in',
    phone: 'Phone', password: 'Password', signIn: 'Sign in', from: 'From', to: 'To', apply: 'Show',
    exportCsv: 'Export CSV', otherLanguage: '中文', chartPoints: 'Points issued and redeemed per day',
    chartChildren: 'Child nodes', chartBacklog: 'Service records awaiting review',
    chartCoverage: 'Rider stations and love corners', childrenTitle: 'Child nodes',
    topTitle: "This month's top 15", giftsTitle: 'Gifts redeemed', stationsTitle: 'By station',
    ridersRegistered: 'Riders registered', ridersCheckedIn: 'Riders checked in',
    ridersActive: 'Active in 30 days', postSeatsFilled: 'Post seats filled',
    postsOpen: '{n} posts open', activitiesHeld: 'Activities held',
    attendancesConfirmed: 'Attendances', reviewBacklog: 'Awaiting review',
    waitingSince: 'oldest waiting {n} days', pointsIssued: 'Points issued',
    pointsRedeemed: 'Points redeemed', pointsOutstanding: 'Points outstanding',
    giftsHandedOut: 'Gifts handed out', riderStations: 'Rider stations', loveCorners: 'Love corners',
    coverage: 'Communities covered', name: 'Name', rank: 'Rank', riderName: 'Rider',
    score: 'Points', gift: 'Gift', station: 'Station', items: 'Items', pointsSpent: 'Points',
    issued: 'Issued', redeemed: 'Redeemed', stations: 'Stations', corners: 'Love corners',
    backlog: 'Awaiting review', checkedIn: 'Riders checked in',
    ruleApplied: 'To protect riders, counts from 1 to {m} are shown as "<{n}" (small-cell rule; where one cell of a group is hidden, a second is too).',
    ruleExact: 'You are staff of this node: figures are exact.',
    expired: 'Your session has expired: sign in again to return to this node.',
    forbidden: 'You may not view this node ({id}): it is outside your area.',
    failed: 'Could not load: {message}', badLogin: 'Wrong phone number or password.',
    mustChange: 'This account must change its initial password first (in the app).',
    noNodes: 'Your account has no node to view.', loading: 'Loading…', none: 'None',
    recordsTitle: 'Service records by kind and status', kind: 'Kind', status: 'Status',
    count: 'Records',
  },
};

let language = localStorage.getItem('cp.lang') === 'en' ? 'en' : 'zh';

export function lang() {
  return language;
}

export function setLang(next) {
  language = next === 'en' ? 'en' : 'zh';
  localStorage.setItem('cp.lang', language);
  document.documentElement.lang = language === 'en' ? 'en' : 'zh-CN';
}

// Enum value name → label, per language, from the catalogue.
const LABELS = { zh: new Map(), en: new Map() };

// True once the catalogue's labels for the current language are in.
export function hasLabels() {
  return LABELS[language].size > 0;
}

// Takes a ListLabels answer (GET /v1/labels), filed under the language it says it is in.
export function setLabels(answer) {
  const into = LABELS[answer?.locale === 'en' ? 'en' : 'zh'];
  for (const e of answer?.enums ?? []) {
    for (const v of e.values ?? []) if (!v.reason) into.set(v.name, v.label);
  }
}

// The BCP 47 tag of the page's language, for Accept-Language.
export function localeTag() {
  return language === 'en' ? 'en' : 'zh-CN';
}

export function t(key, values = {}) {
  const text = WORDS[language][key] ?? WORDS.zh[key] ?? LABELS[language].get(key) ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

// Fills every element marked data-i18n with its word.
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.title = t('title');
}
