/** The REST API's OpenAPI 3.1 document, served at /api/v1/openapi.json. */
const device = {
  type: 'object',
  properties: {
    id: { type: 'string' }, devId: { type: 'string' }, manufacturer: { type: 'string' }, model: { type: 'string' },
    firmware: { type: ['string', 'null'] }, subscriberId: { type: ['string', 'null'] }, serverId: { type: 'string' },
    clientAuth: { enum: ['basic', 'md5', 'hmac'] }, serverAuth: { enum: ['basic', 'md5', 'hmac'] },
    pushAddress: { type: ['string', 'null'] }, lastSeenAt: { type: ['integer', 'null'] },
  },
};
const provision = {
  type: 'object',
  required: ['devId', 'manufacturer', 'model', 'serverId', 'clientAuth', 'clientUser', 'clientPass', 'serverPass'],
  properties: {
    devId: { type: 'string', example: 'IMEI:356938035643809' }, manufacturer: { type: 'string' }, model: { type: 'string' },
    firmware: { type: 'string' }, msisdn: { type: 'string', example: '+44 7700 900123' }, subscriber: { type: 'string' },
    serverId: { type: 'string' }, clientAuth: { enum: ['basic', 'md5', 'hmac'] }, clientUser: { type: 'string' },
    clientPass: { type: 'string', writeOnly: true }, serverAuth: { enum: ['basic', 'md5', 'hmac'] },
    serverPass: { type: 'string', writeOnly: true }, pushAddress: { type: 'string' },
    clientNonce: { type: 'string', description: 'base64; the nonce the handset uses first' }, serverNonce: { type: 'string', description: 'base64' },
  },
};
const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, fieldErrors: { type: 'object' } } } } };

export const openapi = {
  openapi: '3.1.0',
  info: { title: 'Rewind API', version: '1', description: 'Backup and restore for handsets managed over OMA-DM.' },
  servers: [{ url: '/api/v1' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Create one with `npm run rewind -- token create --role admin`.' } },
    schemas: { Device: device, ProvisionDevice: provision, Error: error },
  },
  security: [{ bearer: [] }],
  paths: {
    '/devices': {
      get: {
        summary: 'List devices', tags: ['devices'],
        responses: { '200': { description: 'Devices', content: { 'application/json': { schema: { type: 'object', properties: { devices: { type: 'array', items: { $ref: '#/components/schemas/Device' } } } } } } }, '401': { description: 'No or bad token' } },
      },
      post: {
        summary: 'Provision a device, or several (array body)', tags: ['devices'],
        requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/ProvisionDevice' }, { type: 'array', items: { $ref: '#/components/schemas/ProvisionDevice' } }] } } } },
        responses: { '201': { description: 'Provisioned' }, '400': { description: 'Invalid input', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }, '403': { description: 'Needs the admin role' } },
      },
    },
    '/devices/{devId}/wake': {
      post: {
        summary: 'Send Package #0 so the handset opens a DM session now', tags: ['devices'],
        parameters: [{ name: 'devId', in: 'path', required: true, schema: { type: 'string' }, example: 'IMEI:356938035643809' }],
        responses: {
          '202': { description: 'Sent; the session id the handset will use', content: { 'application/json': { schema: { type: 'object', properties: { sessionId: { type: 'string' } } } } } },
          '404': { description: 'No such device' }, '409': { description: 'The device has no push address' }, '502': { description: 'The push gateway refused or is unreachable' },
        },
      },
    },
  },
} as const;
