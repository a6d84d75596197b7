import type { Language } from './i18n.js';

/**
 * What a resident reads when something fails: in their language, never the gateway's English
 * message inside a Chinese sentence. Codes a resident can meet have their own words; any other
 * says to try later and gives the code to quote to the hotline.
 */
const ZH_CN: Record<string, string> = {
  CL_ERR_NETWORK: '网络连接失败，请检查网络后重试。',
  CL_ERR_TIMEOUT: '网络太慢，请求超时，请稍后重试。',
  CL_ERR_RATE_LIMITED: '提交太频繁，请稍后再试。',
  CL_ERR_VALIDATION: '填写的内容不符合要求，请检查后重试。',
  CL_ERR_BAD_JSON: '填写的内容不符合要求，请检查后重试。',
  CL_ERR_PAYLOAD_TOO_LARGE: '照片或内容太大，请换一张照片或缩短描述。',
  CL_ERR_MEDIA_TYPE: '这不是照片（支持 JPEG、PNG、WebP、HEIC）。',
  CL_ERR_MEDIA_CORRUPT: '照片无法读取，请重新拍摄。',
  CL_ERR_PHOTO_REF: '照片没有上传成功，请删除后重新添加。',
  CL_ERR_UNKNOWN_CATEGORY: '这个问题类型已停用，请重新选择。',
  CL_ERR_ANSWER_INVALID: '补充问题有一项没有回答或答案不符合要求，请检查后重试。',
  CL_ERR_ALREADY_RATED: '您已经评价过这件报事。',
  CL_ERR_NOT_OVERDUE: '这件报事还没有超过处理期限，超期后才能催办。',
  CL_ERR_URGED_RECENTLY: '这件报事刚催办过，处理单位已收到，12 小时后可再次催办。',
  CL_ERR_INVALID_TRANSITION: '这件报事的状态已经变化，请刷新后再试。',
  CL_ERR_VERSION_CONFLICT: '这件报事的状态已经变化，请刷新后再试。',
  CL_ERR_NOT_FOUND: '找不到这件报事。',
  CL_ERR_FORBIDDEN: '您没有权限进行这个操作。',
  CL_ERR_UNAUTHENTICATED: '登录已失效，请重新登录。',
  CL_ERR_TOKEN_INVALID: '登录已失效，请重新登录。',
  CL_ERR_TOKEN_EXPIRED: '登录已失效，请重新登录。',
  CL_ERR_TOKEN_UNAVAILABLE: '登录已失效，请重新登录。',
  CL_ERR_ORIGIN_NOT_ALLOWED: '这个网站还没有开通报事服务，请联系物业。',
  CL_ERR_PUBLISHABLE_KEY_SCOPE: '这个网站还没有开通报事服务，请联系物业。',
};

export function errorText(error: unknown, language: Language): string {
  const code = error && typeof error === 'object' && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  if (language === 'en') return error instanceof Error ? error.message : String(error);
  if (code && ZH_CN[code]) return ZH_CN[code];
  return code ? `服务暂时不可用，请稍后再试（错误代码 ${code}）。` : '出了点问题，请稍后再试。';
}
