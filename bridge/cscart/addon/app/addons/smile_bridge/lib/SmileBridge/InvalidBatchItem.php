<?php

namespace SmileBridge;

/** One batch item is malformed; the message names the item and field (items[3].prices[0].price) and the fix. */
final class InvalidBatchItem extends \InvalidArgumentException
{
}
