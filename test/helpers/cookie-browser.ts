/**
 * A browser reduced to what sign-in tests need: fetch with a cookie jar per host, following
 * redirects by hand so each hop can be inspected (and stopped at). Cookies deleted with
 * Max-Age=0 leave the jar; paths are ignored, as sending more cookies than a browser would
 * only makes the tests stricter.
 */
export class CookieBrowser {
  private readonly jar = new Map<string, Map<string, string>>();
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let cookies = this.jar.get(host);
    if (!cookies) this.jar.set(host, (cookies = new Map()));
    return cookies;
  }

  /** One request, no redirect followed; the response's cookies are kept. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    this.visited.push(url);
    const cookies = this.cookies(url);
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const equals = pair.indexOf('=');
      const name = pair.slice(0, equals).trim();
      const deleted = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (deleted) cookies.delete(name);
      else cookies.set(name, pair.slice(equals + 1).trim());
    }
    return response;
  }

  /** Follows redirects from `url` until a page answers, or `stop` says a redirect's target is far enough. */
  async navigate(url: string, options: { init?: RequestInit; stop?: (location: URL) => boolean } = {}): Promise<Response> {
    let response = await this.request(url, options.init);
    let current = url;
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      const location = new URL(response.headers.get('location') as string, current);
      if (options.stop?.(location)) return response;
      await response.arrayBuffer();
      current = location.href;
      response = await this.request(current);
    }
    return response;
  }

  /** Submits the first form of an HTML page with one named button's value, as a click would. */
  async submitForm(pageUrl: string, html: string, fields: Record<string, string>, stop?: (location: URL) => boolean): Promise<Response> {
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form on ${pageUrl}`);
    const target = new URL(action.replace(/&amp;/g, '&'), pageUrl).href;
    const first = await this.request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    if (first.status < 300 || first.status >= 400) return first;
    const location = new URL(first.headers.get('location') as string, target);
    if (stop?.(location)) return first;
    return this.navigate(location.href, stop ? { stop } : {});
  }
}
