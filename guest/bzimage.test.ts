import { decompressCommand, detectCompression, parseBzImage } from './bzimage';

function fakeBzImage(payload: number[], setupSects = 2): Buffer {
  const start = ((setupSects || 4) + 1) * 512;
  const img = Buffer.alloc(start + 64 + payload.length);
  img[0x1f1] = setupSects;
  img.writeUInt32LE(0x53726448, 0x202);
  img.writeUInt16LE(0x020f, 0x206);
  img.writeUInt32LE(64, 0x248); // payload_offset, relative to the protected-mode code
  img.writeUInt32LE(payload.length, 0x24c);
  Buffer.from(payload).copy(img, start + 64);
  return img;
}

describe('parseBzImage', () => {
  it('finds an LZ4 legacy payload after the setup sectors', () => {
    // payload + kbuild's 4-byte little-endian size trailer (0x1000 bytes decompressed)
    const p = parseBzImage(fakeBzImage([0x02, 0x21, 0x4c, 0x18, 1, 2, 3, 0x00, 0x10, 0, 0]));
    expect(p).toEqual({ offset: 3 * 512 + 64, length: 7, compression: 'lz4', decompressedSize: 0x1000 });
    expect(decompressCommand(p.compression)).toEqual(['lz4', '-dc']);
  });

  it('detects xz and treats setup_sects=0 as 4', () => {
    const p = parseBzImage(fakeBzImage([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 9, 1, 0, 0, 0], 0));
    expect(p.offset).toBe(5 * 512 + 64);
    expect(p.compression).toBe('xz');
  });

  it('rejects files that are not bzImages or have unknown payloads', () => {
    expect(() => parseBzImage(Buffer.alloc(4096))).toThrow(/HdrS/);
    expect(() => parseBzImage(fakeBzImage([0xde, 0xad, 0xbe, 0xef]))).toThrow(/deadbeef/);
  });

  it('keeps gzip payloads whole (gzip records its own size)', () => {
    expect(parseBzImage(fakeBzImage([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]))).toEqual({
      offset: 3 * 512 + 64,
      length: 8,
      compression: 'gzip',
    });
  });
});

describe('detectCompression', () => {
  it('knows gzip, zstd and plain ELF', () => {
    expect(detectCompression(new Uint8Array([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(new Uint8Array([0x7f, 0x45, 0x4c, 0x46]))).toBe('none');
    expect(detectCompression(new Uint8Array([0, 0, 0, 0]))).toBeUndefined();
  });
});
