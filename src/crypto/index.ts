export { encryptSecret, decryptSecret } from './secret-box.js';
