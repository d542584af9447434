// mxrun plugin for a private Haraka (installed as plugins/mxrun.js by
// rn_haraka.py).  It lets the injector relay, gives outbound its MX hosts
// per domain from config/mxrun.json (in order, each bound to the source
// address), and appends one JSON line per delivery result to the events
// file: {"t": epoch seconds, "ev": "sent"|"deferred"|"bounced"|"expired",
// "rcpts": [...], "id": the message's uuid (its queue file's name changes
// on each retry), "text": reply or error}.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

let conf = null

function load() {
    if (!conf) {
        const p = path.join(process.env.HARAKA, 'config', 'mxrun.json')
        conf = JSON.parse(fs.readFileSync(p, 'utf8'))
    }
    return conf
}

// an Address (its address is a string property in @haraka/email-address 3,
// a method before) or a string, lower-cased
function addr(r) {
    if (typeof r === 'string') return r.toLowerCase()
    return (typeof r.address === 'function' ? r.address() : r.address).toLowerCase()
}

function record(ev, hmail, rcpts, text) {
    const line = JSON.stringify({
        t: Date.now() / 1000,
        ev,
        rcpts: rcpts.map(addr),
        id: (hmail.todo && hmail.todo.uuid) || hmail.filename,
        text: String(text || ''),
    })
    fs.appendFileSync(load().events, line + '\n')
}

exports.register = function () {
    load()
}

// no reverse DNS for our own injector (the work place has no resolver)
exports.hook_lookup_rdns = function (next, connection) {
    if (load().injectors.includes(connection.remote.ip)) return next(OK, 'inject.mxrun.test')
    next()
}

exports.hook_connect = function (next, connection) {
    if (load().injectors.includes(connection.remote.ip)) connection.relaying = true
    next()
}

exports.hook_get_mx = function (next, hmail, domain) {
    const c = load()
    const hosts = c.routes[domain.toLowerCase()] || c.routes['*']
    if (!hosts) return next(DENY, `no route for ${domain}`)
    next(
        OK,
        hosts.map(([ip, port], i) => ({ exchange: ip, port, priority: i * 10, bind: c.bind })),
    )
}

exports.hook_delivered = function (next, hmail, params) {
    // params: host, ip, response, delay, port, mode, ok_recips, secured, authenticated
    record('sent', hmail, params[6], params[2])
    next()
}

exports.hook_deferred = function (next, hmail, params) {
    record('deferred', hmail, hmail.todo.rcpt_to, params.err)
    next()
}

exports.hook_bounce = function (next, hmail, err) {
    const msg = err && err.message ? err.message : String(err)
    record(/^Too many failures/.test(msg) ? 'expired' : 'bounced', hmail, hmail.todo.rcpt_to, msg)
    next()
}
