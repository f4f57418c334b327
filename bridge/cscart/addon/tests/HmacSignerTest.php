<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\HmacSigner;

final class HmacSignerTest extends TestCase
{
    public function testSignsTimestampDotBody(): void
    {
        $header = HmacSigner::sign('s3cret', '{"a":1}', 1767225600);
        $this->assertSame('t=1767225600,v1=' . hash_hmac('sha256', '1767225600.{"a":1}', 's3cret'), $header);
    }

    public function testVerifyAcceptsOwnSignatureWithinTolerance(): void
    {
        $header = HmacSigner::sign('s3cret', 'body', 1000);
        $this->assertTrue(HmacSigner::verify('s3cret', $header, 'body', 1300));
        $this->assertTrue(HmacSigner::verify('s3cret', $header, 'body', 700));
    }

    public function testVerifyRejectsTamperingReplayAndWrongKey(): void
    {
        $header = HmacSigner::sign('s3cret', 'body', 1000);
        $this->assertFalse(HmacSigner::verify('s3cret', $header, 'body!', 1000));
        $this->assertFalse(HmacSigner::verify('s3cret', $header, 'body', 1301));
        $this->assertFalse(HmacSigner::verify('other', $header, 'body', 1000));
        $this->assertFalse(HmacSigner::verify('', $header, 'body', 1000));
        $this->assertFalse(HmacSigner::verify('s3cret', 'garbage', 'body', 1000));
        $this->assertFalse(HmacSigner::verify('s3cret', 't=1000', 'body', 1000));
    }

    public function testEmptySecretCannotSign(): void
    {
        $this->expectException(InvalidArgumentException::class);
        HmacSigner::sign('', 'body', 1);
    }
}
