{* SMILE bridge: the customer may ship this order directly to their own customer (直送), with a surcharge. *}
<div class="ty-control-group smile-bridge-direct-ship">
    <input type="hidden" name="smile_direct_ship" value="N" />
    <label for="smile_direct_ship" class="ty-control-group__title">
        <input type="checkbox" id="smile_direct_ship" name="smile_direct_ship" value="Y"
            {if $cart.smile_direct_ship == "Y"}checked="checked"{/if} />
        {__("smile_bridge.direct_ship_label")}
    </label>
    <label for="smile_direct_ship_recipient" class="ty-control-group__title">{__("smile_bridge.direct_ship_recipient")}</label>
    <input type="text" id="smile_direct_ship_recipient" name="smile_direct_ship_recipient" maxlength="255" class="ty-input-text"
        value="{$cart.smile_direct_ship_recipient}" />
    <p class="ty-muted">{__("smile_bridge.direct_ship_recipient_hint")}</p>
</div>
