<?php

namespace SmileBridge;

/** The whole batch request is unusable (not {"items": [...]}, empty, or over 500 items); nothing is applied. */
final class BatchRejected extends \InvalidArgumentException
{
}
