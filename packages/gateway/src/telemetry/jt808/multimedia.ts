import { PHOTO_EVENTS, type PhotoEvent } from '@civicloop/model';

/** A multimedia data upload (0x0801), read. */
export interface MultimediaUpload {
  /** The terminal's multimedia id, which the platform's answer (0x8800) names. */
  id: number;
  /** 0 image, 1 audio, 2 video. */
  type: number;
  /** 0 JPEG, 1 TIF, 2 MP3, 3 WAV, 4 WMV. */
  format: number;
  event: PhotoEvent;
  channel: number;
  /** The basic location information sent with it (28 bytes, 2013 and 2019), absent in 2011's form. */
  location?: Buffer;
  data: Buffer;
}

const HEAD_BYTES = 8;
const LOCATION_BYTES = 28;
const JPEG_START = [0xff, 0xd8];
export const MULTIMEDIA_IMAGE = 0;
export const MULTIMEDIA_JPEG = 0;

const startsJpeg = (body: Buffer, at: number) => body[at] === JPEG_START[0] && body[at + 1] === JPEG_START[1];

/**
 * Reads a 0x0801 body: multimedia id DWORD, type BYTE, format BYTE, event item code BYTE, channel
 * BYTE, then (2013, 2019) the 28-byte basic location information, then the data. 2011 sends no
 * location: a JPEG whose start (FF D8) is right after the eight bytes, and not after the 36, is
 * read that way. Undefined when the body is too short to be one.
 */
export function decodeMultimediaUpload(body: Buffer): MultimediaUpload | undefined {
  if (body.length < HEAD_BYTES) return undefined;
  const withLocation = body.length >= HEAD_BYTES + LOCATION_BYTES && !(startsJpeg(body, HEAD_BYTES) && !startsJpeg(body, HEAD_BYTES + LOCATION_BYTES));
  const eventCode = body[6]!;
  return {
    id: body.readUInt32BE(0),
    type: body[4]!,
    format: body[5]!,
    // Codes 0-7 as the standard lists them (4-7 from 2019 on); the rest are reserved.
    event: PHOTO_EVENTS[Math.min(eventCode, PHOTO_EVENTS.length - 1)]!,
    channel: body[7]!,
    ...(withLocation ? { location: body.subarray(HEAD_BYTES, HEAD_BYTES + LOCATION_BYTES) } : {}),
    data: body.subarray(withLocation ? HEAD_BYTES + LOCATION_BYTES : HEAD_BYTES),
  };
}

/** The platform's answer to a whole upload (0x8800): its multimedia id, and no packet to send again. */
export function multimediaAnswer(id: number): Buffer {
  const body = Buffer.alloc(5);
  body.writeUInt32BE(id >>> 0, 0);
  return body;
}

/**
 * A camera command (0x8801) for one photo, uploaded at once: channel BYTE, shots WORD (1),
 * interval WORD (0), save flag BYTE (0: upload, not keep), resolution BYTE (0x02: 640x480, kept
 * small for JT808_MAX_MESSAGE_BYTES), quality BYTE (1 best to 10; 5), brightness
 * BYTE (0-255), contrast BYTE (0-127), saturation BYTE (0-127), chroma BYTE (0-255), each the
 * middle of its range.
 */
export function cameraCommand(channel: number): Buffer {
  return Buffer.from([channel, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x05, 0x80, 0x40, 0x40, 0x80]);
}

/** A camera command's answer (0x0805): the command's serial, its result (0 done, 1 failed, 2 no such channel), the ids of what was taken. */
export function decodeCameraAnswer(body: Buffer): { serial: number; result: number; ids: number[] } | undefined {
  if (body.length < 3) return undefined;
  const ids: number[] = [];
  if (body.length >= 5) {
    const count = body.readUInt16BE(3);
    for (let i = 0; i < count && 5 + 4 * i + 4 <= body.length; i++) ids.push(body.readUInt32BE(5 + 4 * i));
  }
  return { serial: body.readUInt16BE(0), result: body[2]!, ids };
}
