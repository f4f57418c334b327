{* SMILE bridge: お届け希望日 and 時間帯 for the chosen shipping method (choices from rules/shipping.yaml, pushed by the daemon). *}
{$smile_delivery = fn_smile_bridge_delivery_options($cart)}
{if $smile_delivery}
<div class="ty-control-group smile-bridge-delivery">
    <label for="smile_delivery_date" class="ty-control-group__title">{__("smile_bridge.delivery_date")}</label>
    <select id="smile_delivery_date" name="smile_delivery_date">
        <option value="">{__("smile_bridge.delivery_none")}</option>
        {foreach $smile_delivery.dates as $day}
            <option value="{$day}" {if $cart.smile_delivery_date == $day}selected="selected"{/if}>{$day|replace:"-":"/"}</option>
        {/foreach}
    </select>
    {if $smile_delivery.slots}
    <label for="smile_delivery_slot" class="ty-control-group__title">{__("smile_bridge.delivery_slot")}</label>
    <select id="smile_delivery_slot" name="smile_delivery_slot">
        {foreach $smile_delivery.slots as $slot}
            <option value="{$slot}" {if $cart.smile_delivery_slot == $slot}selected="selected"{/if}>{$slot}</option>
        {/foreach}
    </select>
    {/if}
</div>
{/if}
