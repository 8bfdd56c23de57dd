// Plain HTTP on node:http for the shim and the test clients. (Node's fetch
// loads undici lazily, and undici needs the TextEncoder global the tests
// remove to look like the mini-program runtime.)

const http = require('http')

/**
 * @param {string} url
 * @param {{method?: string, headers?: object, body?: string, timeout?: number}} [o]
 * @returns {Promise<{status: number, headers: object, text: string}>}
 */
function httpRequest(url, o = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method || 'GET', headers: o.headers || {} }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.setTimeout(o.timeout || 60000, () => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })))
    req.on('error', reject)
    if (o.body !== undefined) req.write(o.body)
    req.end()
  })
}

/** POSTs JSON, parses the JSON answer. */
async function postJson(url, body) {
  const r = await httpRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body || {}),
  })
  return JSON.parse(r.text)
}

module.exports = { httpRequest, postJson }
