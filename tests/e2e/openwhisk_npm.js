// openwhisk_npm.js - the official `openwhisk` npm client against `harvestbench serve`, as an
// independent check of its API: create an action, invoke it blocking and not, fetch the
// activation, list, update and delete. Prints "ok NAME" or "fail NAME: why" per check.
// usage: node openwhisk_npm.js CLIENT_DIR   (environment: OW_APIHOST, OW_KEY)
'use strict'
const openwhisk = require(process.argv[2])
const ow = openwhisk({ apihost: process.env.OW_APIHOST, api_key: process.env.OW_KEY })

const name = 'npm-echo'
const code = '#!/bin/sh\necho "a log line"\necho "{\\"got\\":$1}"\n'
let failures = 0
function check (label, cond, why) {
  if (cond) console.log('ok ' + label)
  else { failures++; console.log('fail ' + label + ': ' + why) }
}
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const key = (anns, k) => (anns || []).find(a => a.key === k)

async function main () {
  const created = await ow.actions.create({
    name, action: { exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton', code }, limits: { timeout: 10000, memory: 256 } }
  })
  check('create', created.name === name && created.version === '0.0.1', JSON.stringify(created))

  let dup = null
  try { await ow.actions.create({ name, action: { exec: { kind: 'blackbox', image: 'x', code } } }) } catch (e) { dup = e }
  check('create again is 409', dup && dup.statusCode === 409, String(dup && dup.statusCode))

  const blocking = await ow.actions.invoke({ name, blocking: true, params: { x: 1 } })
  check('blocking invoke returns the activation', blocking.response && blocking.response.success === true &&
        blocking.response.result.got.x === 1, JSON.stringify(blocking))
  check('annotations waitTime, kind, limits, initTime (cold)', key(blocking.annotations, 'waitTime') &&
        key(blocking.annotations, 'kind').value === 'blackbox' && key(blocking.annotations, 'limits').value.memory === 256 &&
        key(blocking.annotations, 'initTime'), JSON.stringify(blocking.annotations))

  const result = await ow.actions.invoke({ name, blocking: true, result: true, params: { x: 2 } })
  check('blocking invoke with result=true', result.got && result.got.x === 2, JSON.stringify(result))

  const queued = await ow.actions.invoke({ name, params: { x: 3 } })
  check('non-blocking invoke returns an activation id', typeof queued.activationId === 'string' &&
        queued.activationId.length === 32, JSON.stringify(queued))

  let act = null
  for (let i = 0; i < 200 && !act; i++) {
    try { act = await ow.activations.get({ name: queued.activationId }) } catch (e) {
      if (e.statusCode !== 404) throw e
      await sleep(50)
    }
  }
  check('the activation is fetched', act && act.activationId === queued.activationId &&
        act.response.result.got.x === 3 && act.logs.length === 1, JSON.stringify(act))
  const res = await ow.activations.result({ name: queued.activationId })
  check('activation result', res.result && res.result.got.x === 3, JSON.stringify(res))
  const logs = await ow.activations.logs({ name: queued.activationId })
  check('activation logs', logs.logs.length === 1 && logs.logs[0].includes('a log line'), JSON.stringify(logs))

  const list = await ow.activations.list({ name, limit: 10 })
  check('activations list, newest first', list.length === 3 && list[0].activationId === queued.activationId,
        JSON.stringify(list.map(a => a.activationId)))

  const actions = await ow.actions.list()
  check('actions list', actions.some(a => a.name === name), JSON.stringify(actions.map(a => a.name)))
  const got = await ow.actions.get({ name })
  check('action get with code', got.exec.code === code && got.limits.timeout === 10000, JSON.stringify(got.exec))
  const updated = await ow.actions.update({ name, action: { exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton', code: '#!/bin/sh\necho \'{"v":2}\'\n' } } })
  check('update bumps the version', updated.version === '0.0.2', JSON.stringify(updated))
  const v2 = await ow.actions.invoke({ name, blocking: true, result: true })
  check('the update runs', v2.v === 2, JSON.stringify(v2))

  let missing = null
  try { await ow.actions.invoke({ name: 'no-such-action', blocking: true }) } catch (e) { missing = e }
  check('invoking a missing action is 404', missing && missing.statusCode === 404, String(missing))
  await ow.actions.delete({ name })
  let gone = null
  try { await ow.actions.get({ name }) } catch (e) { gone = e }
  check('delete', gone && gone.statusCode === 404, String(gone))

  const bad = openwhisk({ apihost: process.env.OW_APIHOST, api_key: '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong' })
  let denied = null
  try { await bad.actions.list() } catch (e) { denied = e }
  check('a wrong key is 401', denied && denied.statusCode === 401, String(denied))
}

main().then(() => process.exit(failures ? 1 : 0), e => {
  console.log('fail unexpected: ' + (e && e.stack ? e.stack : e))
  process.exit(1)
})
