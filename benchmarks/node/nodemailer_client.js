// benchmarks/node/nodemailer_client.js - nodemailer's pooled SMTP transport as a peer.
//
//   node nodemailer_client.js --port P --count N --sessions C --body FILE
//
// One pooled transport with C connections (maxConnections C, maxMessages unlimited): all N
// messages are handed to it at once and it spreads them over its connections, each reused.
// Messages are sent raw (the same bytes as every other client) with an explicit envelope.
// getSocket hands the pool sockets opened with TCP_NODELAY (nodemailer leaves Nagle on).
// SPDX-License-Identifier: BSL-1.0
'use strict';
const fs = require('fs');
const net = require('net');
const nodemailer = require('nodemailer');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const port = Number(args.port);
const count = Number(args.count || 1);
const sessions = Number(args.sessions || 1);
const raw = fs.readFileSync(args.body);

const transport = nodemailer.createTransport({
  pool: true,
  host: '127.0.0.1',
  port,
  secure: false,
  ignoreTLS: true,
  name: 'nodemailer.example.org',
  maxConnections: sessions,
  maxMessages: Infinity,
  getSocket(options, callback) {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => callback(null, { connection: socket }));
    socket.once('error', (err) => callback(err));
  },
});

const envelope = { from: 'sender@example.org', to: ['rcpt@example.net'] };
let delivered = 0;
const sends = [];
for (let i = 0; i < count; ++i) {
  sends.push(transport.sendMail({ envelope, raw }).then(() => { ++delivered; }, (err) => {
    console.error(`nodemailer: ${err.message}`);
  }));
}
Promise.all(sends).then(() => {
  transport.close();
  process.exitCode = delivered === count ? 0 : 1;
});
