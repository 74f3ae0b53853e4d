{#- The card a note or task sits on, in the singular amoCRM events use (lead, contact, company,
    customer), from the plural `entity_type` of notes and tasks (leads, contacts, ...). -#}
{% macro card_type(entity_type) -%}
    case {{ entity_type }}
        when 'leads' then 'lead'
        when 'contacts' then 'contact'
        when 'companies' then 'company'
        when 'customers' then 'customer'
    end
{%- endmacro %}
