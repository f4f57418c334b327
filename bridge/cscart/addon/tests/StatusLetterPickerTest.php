<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\StatusLetterPicker;

final class StatusLetterPickerTest extends TestCase
{
    public function testPrefersFreeLettersAndSkipsTakenAndReserved(): void
    {
        $taken = ['O', 'P', 'C', 'F', 'D', 'B', 'I', 'Y', 'J'];
        $picked = StatusLetterPicker::pick($taken, ['a', 'b', 'c', 'd'], ['a' => 'J', 'b' => 'K', 'c' => 'N', 'd' => 'k']);
        $this->assertSame(['a' => 'A', 'b' => 'K', 'c' => 'E', 'd' => 'G'], $picked);
    }

    public function testNeverReturnsNOrTOrDuplicates(): void
    {
        $taken = array_diff(range('A', 'Z'), ['N', 'T', 'Q', 'R']);
        $this->assertSame(['x' => 'Q', 'y' => 'R'], StatusLetterPicker::pick($taken, ['x', 'y']));
    }

    public function testFailsClearlyWhenLettersRunOut(): void
    {
        $this->expectException(RuntimeException::class);
        $this->expectExceptionMessage('no free order status letter');
        StatusLetterPicker::pick(array_diff(range('A', 'Z'), ['Q']), ['x', 'y']);
    }

    public function testMalformedTakenAndPreferredLettersAreNeverTrusted(): void
    {
        // A store's list may hold lowercase letters, blanks or junk; a preferred letter may be anything.
        $taken = ['o', 'P', '', 'CC', '?', 'j', ' H'];
        $picked = StatusLetterPicker::pick($taken, ['a', 'b', 'c', 'd', 'e'], ['a' => 'J', 'b' => '1', 'c' => 'SS', 'd' => '', 'e' => 't']);
        $this->assertSame(['a' => 'A', 'b' => 'B', 'c' => 'C', 'd' => 'D', 'e' => 'E'], $picked);
        foreach ($picked as $letter) {
            $this->assertMatchesRegularExpression('/^[A-Z]$/', $letter);
            $this->assertNotContains($letter, ['N', 'T', 'O', 'P', 'J']);
        }
    }
}
