export interface SseMessage {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/**
 * Incremental parser for the text/event-stream format (WHATWG HTML, "server-sent events"):
 * feed it decoded text as it arrives; it returns the complete messages so far.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private retry: number | undefined;
  private sawId = false;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (let newline = this.buffer.search(/\r\n|\r|\n/); newline >= 0; newline = this.buffer.search(/\r\n|\r|\n/)) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      if (line === '') {
        // A block with only an id still moves the resume point (WHATWG: the last event ID is set
        // on dispatch even when there is no data).
        if (this.data.length > 0 || this.retry !== undefined || this.sawId) {
          const message: SseMessage = { event: this.event || 'message', data: this.data.join('\n') };
          if (this.id !== undefined) message.id = this.id;
          if (this.retry !== undefined) message.retry = this.retry;
          out.push(message);
        }
        this.data = [];
        this.event = '';
        this.retry = undefined;
        this.sawId = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\0')) {
        this.id = value;
        this.sawId = true;
      } else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    }
    return out;
  }
}
