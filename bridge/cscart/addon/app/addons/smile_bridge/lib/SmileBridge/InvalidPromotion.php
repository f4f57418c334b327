<?php

namespace SmileBridge;

/** A promotion request is malformed; the message names the field (bonuses[1].discount_value) and the fix. */
final class InvalidPromotion extends \InvalidArgumentException
{
}
