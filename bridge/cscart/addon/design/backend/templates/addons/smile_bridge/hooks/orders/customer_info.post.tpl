{* SMILE bridge: direct shipping and 納品先 of this order (read-only here; the daemon writes them). *}
<div class="control-group">
    <label class="control-label">{__("smile_bridge.direct_ship")}</label>
    <div class="controls">
        {if $order_info.smile_direct_ship == "Y"}{__("yes")}{else}{__("no")}{/if}
    </div>
</div>
{if $order_info.smile_direct_ship == "Y"}
<div class="control-group">
    <label class="control-label">{__("smile_bridge.direct_ship_recipient")}</label>
    <div class="controls">{$order_info.smile_direct_ship_recipient|escape}</div>
</div>
<div class="control-group">
    <label class="control-label">{__("smile_bridge.direct_ship_surcharge")}</label>
    <div class="controls">{include file="common/price.tpl" value=$order_info.smile_direct_ship_surcharge}</div>
</div>
{/if}
<div class="control-group">
    <label class="control-label">{__("smile_bridge.ship_to_code")}</label>
    <div class="controls">{$order_info.smile_ship_to_code|default:"-"|escape}</div>
</div>
