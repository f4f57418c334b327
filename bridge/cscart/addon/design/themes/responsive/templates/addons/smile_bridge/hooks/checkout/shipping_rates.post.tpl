{* SMILE bridge, inside the checkout form (CS-Cart 4.20 lite checkout): お届け希望日 / 時間帯 for the chosen shipping
   method (choices from rules/shipping.yaml, pushed by the daemon) and 直送 with its end recipient. Fields marked
   data-ca-shipping-field travel with the shipping recalculation (checkout.js fn_calculate_total_shipping_cost), so
   the summary shows the 直送 surcharge at once and a re-rendered block keeps the choice. *}
{$smile_delivery = fn_smile_bridge_delivery_options($cart)}
{if $smile_delivery}
<div class="litecheckout__group smile-bridge-delivery">
    <div class="litecheckout__field">
        <label for="smile_delivery_date" class="ty-control-group__title">{__("smile_bridge.delivery_date")}</label>
        <select id="smile_delivery_date" name="smile_delivery_date" data-ca-shipping-field="true"
            onchange="fn_calculate_total_shipping_cost(true);">
            <option value="">{__("smile_bridge.delivery_none")}</option>
            {foreach $smile_delivery.dates as $day}
                <option value="{$day}" {if $cart.smile_delivery_date == $day}selected="selected"{/if}>{$day|replace:"-":"/"}</option>
            {/foreach}
        </select>
    </div>
    {if $smile_delivery.slots}
    <div class="litecheckout__field">
        <label for="smile_delivery_slot" class="ty-control-group__title">{__("smile_bridge.delivery_slot")}</label>
        <select id="smile_delivery_slot" name="smile_delivery_slot" data-ca-shipping-field="true"
            onchange="fn_calculate_total_shipping_cost(true);">
            {foreach $smile_delivery.slots as $slot}
                <option value="{$slot}" {if $cart.smile_delivery_slot == $slot}selected="selected"{/if}>{$slot}</option>
            {/foreach}
        </select>
    </div>
    {/if}
</div>
{/if}
<div class="litecheckout__group smile-bridge-direct-ship">
    <input type="hidden" id="smile_direct_ship" name="smile_direct_ship" data-ca-shipping-field="true"
        value="{if $cart.smile_direct_ship == "Y"}Y{else}N{/if}" />
    <div class="litecheckout__field">
        <label for="smile_direct_ship_choice" class="ty-control-group__title">
            <input type="checkbox" id="smile_direct_ship_choice" value="Y"
                {if $cart.smile_direct_ship == "Y"}checked="checked"{/if}
                onchange="document.getElementById('smile_direct_ship').value = this.checked ? 'Y' : 'N'; fn_calculate_total_shipping_cost();" />
            {__("smile_bridge.direct_ship_label")}
        </label>
    </div>
    <div class="litecheckout__field">
        <label for="smile_direct_ship_recipient" class="ty-control-group__title">{__("smile_bridge.direct_ship_recipient")}</label>
        <input type="text" id="smile_direct_ship_recipient" name="smile_direct_ship_recipient" maxlength="255"
            class="ty-input-text" data-ca-shipping-field="true" value="{$cart.smile_direct_ship_recipient}"
            onchange="fn_calculate_total_shipping_cost();" />
        <p class="ty-muted">{__("smile_bridge.direct_ship_recipient_hint")}</p>
    </div>
</div>
