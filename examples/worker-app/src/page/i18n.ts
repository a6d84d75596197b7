// The app's words in Chinese and English. Chinese by default on a Chinese phone; the header button
// switches, and the choice is kept on the phone.
const zh = {
  title: '我的工单',
  loading: '加载中…',
  online: '在线',
  offline: '离线，联网后发送',
  signedOut: '请重新登录',
  signIn: '登录',
  signOut: '退出登录',
  switchTo: 'English',
  sectionNew: '新派工单',
  sectionAccepted: '已接单',
  sectionOnSite: '已到场',
  sectionRework: '返工',
  none: '暂无工单',
  pending: '待发送',
  waiting: '{n} 项操作待发送',
  sending: '发送中…',
  sentAll: '已全部发送',
  back: '返回列表',
  accept: '接单',
  navigate: '导航',
  navigateAmap: '高德地图导航',
  arrive: '我已到场',
  arriveAuto: '进入现场 {m} 米内会自动记为到场。',
  resolve: '办结',
  rework: '开始返工',
  photo: '拍摄处置后照片',
  photoAgain: '重拍',
  note: '处置说明',
  extend: '申请延期',
  extendMinutes: '延长（分钟）',
  reason: '原因',
  returnJob: '退回',
  send: '提交',
  cancel: '取消',
  required: '必填',
  photoNeeded: '办结需要一张处置后照片。',
  reasonNeeded: '请填写原因。',
  queued: '已保存，联网后发送。',
  done: '已提交。',
  refused: '未能提交：{why}',
  alreadyDone: '已由系统记录（{what}）。',
  newJob: '新工单：{what}',
  urgedJob: '居民催办：{what}',
  takenReassigned: '{what} 已改派他人，无需前往',
  takenReturned: '{what} 已退回调度，无需前往',
  takenMerged: '{what} 已并入其他工单，无需前往',
  reported: '上报于 {at}',
  due: '办结期限 {at}',
  breached: '已超时',
  extensionPending: '延期申请审核中',
  onDuty: '上班中（手机作为工牌上报位置）',
  offDuty: '未上班',
  checkIn: '上班签到',
  checkOut: '下班签退',
  noLocation: '无法获取位置：请允许定位，或到场后手动点“我已到场”。',
  photoTooLarge: '照片超过 10 MB。',
  photoNotImage: '这不是照片文件。',
  photoTruncated: '照片不完整，请重拍。',
  photoUndecodable: '无法读取这张照片，请重拍。',
  statusDispatched: '待接单',
  statusAccepted: '已接单',
  statusOn_site: '已到场',
  statusRework: '返工',
  statusResolved: '已办结',
  statusOther: '已不在你名下',
};
export type Words = typeof zh;
const en: Words = {
  title: 'My jobs',
  loading: 'Loading…',
  online: 'Online',
  offline: 'Offline: sent when back',
  signedOut: 'Sign in again',
  signIn: 'Sign in',
  signOut: 'Sign out',
  switchTo: '中文',
  sectionNew: 'New',
  sectionAccepted: 'Accepted',
  sectionOnSite: 'On site',
  sectionRework: 'Rework',
  none: 'No jobs',
  pending: 'to send',
  waiting: '{n} actions waiting to be sent',
  sending: 'Sending…',
  sentAll: 'All sent',
  back: 'Back to the list',
  accept: 'Accept',
  navigate: 'Navigate',
  navigateAmap: 'Navigate with AMap',
  arrive: "I'm here",
  arriveAuto: 'Within {m} m of the site you are marked on site automatically.',
  resolve: 'Resolve',
  rework: 'Start the rework',
  photo: 'Take the after-photo',
  photoAgain: 'Take it again',
  note: 'What was done',
  extend: 'Ask for more time',
  extendMinutes: 'More time (minutes)',
  reason: 'Reason',
  returnJob: 'Return',
  send: 'Send',
  cancel: 'Cancel',
  required: 'required',
  photoNeeded: 'Resolving needs an after-photo.',
  reasonNeeded: 'Give a reason.',
  queued: 'Saved; it is sent when back online.',
  done: 'Sent.',
  refused: 'Not accepted: {why}',
  alreadyDone: 'Already recorded ({what}).',
  newJob: 'New job: {what}',
  urgedJob: 'Chased by the reporter: {what}',
  takenReassigned: '{what} went to someone else: no need to go',
  takenReturned: '{what} was returned to the dispatchers: no need to go',
  takenMerged: '{what} was merged into another report: no need to go',
  reported: 'Reported {at}',
  due: 'Resolve by {at}',
  breached: 'late',
  extensionPending: 'More time asked, waiting for the dispatcher',
  onDuty: 'On duty (this phone reports your position as your badge)',
  offDuty: 'Off duty',
  checkIn: 'Check in',
  checkOut: 'Check out',
  noLocation: 'No position: allow location, or press "I\'m here" on site.',
  photoTooLarge: 'The photo is over 10 MB.',
  photoNotImage: 'This is not a photo.',
  photoTruncated: 'The photo is incomplete; take it again.',
  photoUndecodable: 'This photo cannot be read; take it again.',
  statusDispatched: 'To accept',
  statusAccepted: 'Accepted',
  statusOn_site: 'On site',
  statusRework: 'Rework',
  statusResolved: 'Resolved',
  statusOther: 'No longer yours',
};

export type Language = 'zh-CN' | 'en';
const WORDS: Record<Language, Words> = { 'zh-CN': zh, en };
const saved = localStorage.getItem('civicloop-worker-language');
let language: Language = saved === 'en' || saved === 'zh-CN' ? saved : navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';

export const currentLanguage = () => language;
export function setLanguage(next: Language): void {
  language = next;
  localStorage.setItem('civicloop-worker-language', next);
  document.documentElement.lang = next;
}
document.documentElement.lang = language;

/** A phrase in the current language, with {name} filled in. */
export function t(key: keyof Words, vars: Record<string, string | number> = {}): string {
  return WORDS[language][key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
}

export function statusWord(status: string): string {
  const key = `status${status[0]!.toUpperCase()}${status.slice(1)}` as keyof Words;
  return key in zh ? t(key) : t('statusOther');
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** A time as people write it in the language (Chinese: 12月2日 15:30). */
export function when(iso: string, timeZone: string): string {
  const id = `${language}|${timeZone}`;
  let format = formats.get(id);
  if (!format) {
    format = new Intl.DateTimeFormat(language, {
      timeZone,
      month: language === 'en' ? 'short' : 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    formats.set(id, format);
  }
  return format.format(new Date(iso));
}
